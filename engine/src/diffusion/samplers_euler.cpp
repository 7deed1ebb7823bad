// Euler, Heun and DPM-2 samplers and their ancestral variants (k-diffusion semantics; Karras et al. 2022).
#include "gesso/diffusion/sampler.h"

#include "sampler_math.h"

#include <cmath>

namespace gesso::diffusion {
using detail::addAncestralNoise;
using detail::evaluateAncestral;
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

// The start of step i of Euler, Heun and DPM-2: churn x to sigma_hat, denoise there, report, and the derivative.
struct ChurnedEvaluation {
  double sigma_hat = 0;
  at::Tensor d;
};
ChurnedEvaluation evaluateChurned(SamplerContext& context, at::Tensor& x, const std::vector<double>& sigmas, int i) {
  const double sigma_hat = churn(context, x, sigmas, i);
  const at::Tensor denoised = context.denoise(x, sigma_hat);
  const at::Tensor d = toD(x, sigma_hat, denoised);
  context.report(i, stepCount(sigmas), sigmas[i], sigma_hat, x, denoised);
  return {sigma_hat, d};
}

// DPM-Solver-2's move from sigma to sigma_next given the derivative d at sigma: a plain Euler step when sigma_next is
// 0, otherwise the derivative is re-evaluated at the log-sigma midpoint and used for the whole step.
at::Tensor dpm2Step(SamplerContext& context, const at::Tensor& x, const at::Tensor& d, double sigma, double sigma_next) {
  if (sigma_next == 0) return x + d * (sigma_next - sigma);
  const double sigma_mid = std::exp(0.5 * (std::log(sigma) + std::log(sigma_next)));
  const at::Tensor x_2 = x + d * (sigma_mid - sigma);
  const at::Tensor denoised_2 = context.denoise(x_2, sigma_mid);
  const at::Tensor d_2 = toD(x_2, sigma_mid, denoised_2);
  return x + d_2 * (sigma_next - sigma);
}

}  // namespace

// Euler's method on the probability-flow ODE (Karras et al. 2022, "Elucidating the Design Space...", Alg. 2).
at::Tensor sampleEuler(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  for (int i = 0; i < stepCount(sigmas); ++i) {
    const auto [sigma_hat, d] = evaluateChurned(context, x, sigmas, i);
    x = x + d * (sigmas[i + 1] - sigma_hat);
  }
  return x;
}

// Ancestral sampling with Euler steps: step down to sigma_down, then add noise of std sigma_up (k-diffusion).
at::Tensor sampleEulerAncestral(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(1.0);
  for (int i = 0; i < stepCount(sigmas); ++i) {
    const auto step = evaluateAncestral(context, x, sigmas, i, eta);
    const at::Tensor d = toD(x, sigmas[i], step.denoised);
    x = x + d * (step.sigma_down - sigmas[i]);
    x = addAncestralNoise(context, x, sigmas[i], sigmas[i + 1], step.sigma_up);
  }
  return x;
}

// Heun's method, second order (Karras et al. 2022, Alg. 2); the last step to sigma = 0 is an Euler step.
at::Tensor sampleHeun(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  for (int i = 0; i < stepCount(sigmas); ++i) {
    const auto [sigma_hat, d] = evaluateChurned(context, x, sigmas, i);
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
  for (int i = 0; i < stepCount(sigmas); ++i) {
    const auto [sigma_hat, d] = evaluateChurned(context, x, sigmas, i);
    x = dpm2Step(context, x, d, sigma_hat, sigmas[i + 1]);
  }
  return x;
}

// Ancestral DPM-Solver-2: the midpoint step down to sigma_down, then noise of std sigma_up (k-diffusion); no noise
// where sigma_down is 0.
at::Tensor sampleDpm2Ancestral(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(1.0);
  for (int i = 0; i < stepCount(sigmas); ++i) {
    const auto step = evaluateAncestral(context, x, sigmas, i, eta);
    const at::Tensor d = toD(x, sigmas[i], step.denoised);
    x = dpm2Step(context, x, d, sigmas[i], step.sigma_down);
    if (step.sigma_down != 0) x = x + context.drawNoise(sigmas[i], sigmas[i + 1]) * context.options.s_noise * step.sigma_up;
  }
  return x;
}

}  // namespace gesso::diffusion
