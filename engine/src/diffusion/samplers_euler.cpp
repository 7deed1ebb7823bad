// Euler, Heun and DPM-2 samplers and their ancestral variants (k-diffusion semantics; Karras et al. 2022).
#include "gesso/diffusion/sampler.h"

#include "sampler_math.h"

#include <cmath>

namespace gesso::diffusion {
using detail::ancestralStep;
using detail::stepCount;
using detail::toD;

namespace {

// Karras et al. 2022, Algorithm 2 "churn": raise sigma to sigma_hat by adding fresh noise (only when s_churn > 0).
double churn(SamplerContext& context, at::Tensor& x, const std::vector<double>& sigmas, int i) {
  const SamplerOptions& options = context.options;
  const double sigma = sigmas[i];
  const double gamma = (options.s_tmin <= sigma && sigma <= options.s_tmax)
                           ? std::min(options.s_churn / stepCount(sigmas), std::sqrt(2.0) - 1)
                           : 0.0;
  const double sigma_hat = sigma * (gamma + 1);
  if (gamma > 0) x = x + context.drawNoise(sigma, sigma_hat) * options.s_noise * std::sqrt(sigma_hat * sigma_hat - sigma * sigma);
  return sigma_hat;
}

}  // namespace

// Euler's method on the probability-flow ODE (Karras et al. 2022, "Elucidating the Design Space...", Alg. 2).
at::Tensor sampleEuler(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const double sigma_hat = churn(context, x, sigmas, i);
    const at::Tensor denoised = context.denoise(x, sigma_hat);
    const at::Tensor d = toD(x, sigma_hat, denoised);
    context.report(i, steps, sigmas[i], sigma_hat, x, denoised);
    x = x + d * (sigmas[i + 1] - sigma_hat);
  }
  return x;
}

// Ancestral sampling with Euler steps: step down to sigma_down, then add noise of std sigma_up (k-diffusion).
at::Tensor sampleEulerAncestral(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(1.0);
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    const auto [sigma_down, sigma_up] = ancestralStep(sigmas[i], sigmas[i + 1], eta);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    const at::Tensor d = toD(x, sigmas[i], denoised);
    x = x + d * (sigma_down - sigmas[i]);
    if (sigmas[i + 1] > 0) x = x + context.drawNoise(sigmas[i], sigmas[i + 1]) * context.options.s_noise * sigma_up;
  }
  return x;
}

// Heun's method, second order (Karras et al. 2022, Alg. 2); the last step to sigma = 0 is an Euler step.
at::Tensor sampleHeun(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const double sigma_hat = churn(context, x, sigmas, i);
    const at::Tensor denoised = context.denoise(x, sigma_hat);
    const at::Tensor d = toD(x, sigma_hat, denoised);
    context.report(i, steps, sigmas[i], sigma_hat, x, denoised);
    const double dt = sigmas[i + 1] - sigma_hat;
    if (sigmas[i + 1] == 0) {
      x = x + d * dt;
    } else {
      const at::Tensor x_2 = x + d * dt;
      const at::Tensor denoised_2 = context.denoise(x_2, sigmas[i + 1]);
      const at::Tensor d_2 = toD(x_2, sigmas[i + 1], denoised_2);
      x = x + (d + d_2) / 2 * dt;
    }
  }
  return x;
}

// DPM-Solver-2 in sigma form: a midpoint step at the log-sigma midpoint (Lu et al. 2022, "DPM-Solver"; k-diffusion).
at::Tensor sampleDpm2(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const double sigma_hat = churn(context, x, sigmas, i);
    const at::Tensor denoised = context.denoise(x, sigma_hat);
    const at::Tensor d = toD(x, sigma_hat, denoised);
    context.report(i, steps, sigmas[i], sigma_hat, x, denoised);
    if (sigmas[i + 1] == 0) {
      x = x + d * (sigmas[i + 1] - sigma_hat);
    } else {
      const double sigma_mid = std::exp(0.5 * (std::log(sigma_hat) + std::log(sigmas[i + 1])));
      const at::Tensor x_2 = x + d * (sigma_mid - sigma_hat);
      const at::Tensor denoised_2 = context.denoise(x_2, sigma_mid);
      const at::Tensor d_2 = toD(x_2, sigma_mid, denoised_2);
      x = x + d_2 * (sigmas[i + 1] - sigma_hat);
    }
  }
  return x;
}

// Ancestral DPM-Solver-2: the midpoint step down to sigma_down, then noise of std sigma_up (k-diffusion).
at::Tensor sampleDpm2Ancestral(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(1.0);
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    const auto [sigma_down, sigma_up] = ancestralStep(sigmas[i], sigmas[i + 1], eta);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    const at::Tensor d = toD(x, sigmas[i], denoised);
    if (sigma_down == 0) {
      x = x + d * (sigma_down - sigmas[i]);
    } else {
      const double sigma_mid = std::exp(0.5 * (std::log(sigmas[i]) + std::log(sigma_down)));
      const at::Tensor x_2 = x + d * (sigma_mid - sigmas[i]);
      const at::Tensor denoised_2 = context.denoise(x_2, sigma_mid);
      const at::Tensor d_2 = toD(x_2, sigma_mid, denoised_2);
      x = x + d_2 * (sigma_down - sigmas[i]);
      x = x + context.drawNoise(sigmas[i], sigmas[i + 1]) * context.options.s_noise * sigma_up;
    }
  }
  return x;
}

}  // namespace gesso::diffusion
