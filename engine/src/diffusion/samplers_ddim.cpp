// DDIM, DDPM and LCM samplers written in sigma space over the denoised estimate.
#include "gesso/diffusion/sampler.h"

#include "sampler_math.h"

#include <cmath>

namespace gesso::diffusion {
using detail::ancestralStep;
using detail::stepCount;

// DDIM (Song et al. 2021, "Denoising Diffusion Implicit Models", eq. 12) with eta. Divided by sqrt(alpha_bar), the
// DDIM update is x' = D + eps * sigma_down + sigma_up * z with eps = (x - D) / sigma and k-diffusion's ancestral split
// of sigma_next (get_ancestral_step): eta = 0 is the Euler step, eta = 1 the DDPM posterior step. ComfyUI's "ddim"
// is Euler; eta (default 0) is A1111's DDIM eta.
at::Tensor sampleDdim(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(0.0);
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    if (sigmas[i + 1] == 0) {
      x = denoised;
      continue;
    }
    const auto [sigma_down, sigma_up] = ancestralStep(sigmas[i], sigmas[i + 1], eta);
    const at::Tensor eps = (x - denoised) / sigmas[i];
    x = denoised + eps * sigma_down;
    if (sigma_up > 0) x = x + context.drawNoise(sigmas[i], sigmas[i + 1]) * context.options.s_noise * sigma_up;
  }
  return x;
}

// Ancestral DDPM sampling (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", Alg. 2) on the variance-
// preserving latent x / sqrt(1 + sigma^2) with alpha_bar = 1 / (1 + sigma^2) (ComfyUI sample_ddpm).
at::Tensor sampleDdpm(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const double sigma = sigmas[i];
    const double sigma_next = sigmas[i + 1];
    const at::Tensor denoised = context.denoise(x, sigma);
    context.report(i, steps, sigma, sigma, x, denoised);
    const at::Tensor eps = (x - denoised) / sigma;
    const at::Tensor x_vp = x / std::sqrt(1.0 + sigma * sigma);
    const double alpha_bar = 1 / (sigma * sigma + 1);
    const double alpha_bar_next = 1 / (sigma_next * sigma_next + 1);
    const double alpha = alpha_bar / alpha_bar_next;
    at::Tensor mean = std::sqrt(1.0 / alpha) * (x_vp - (1 - alpha) / std::sqrt(1 - alpha_bar) * eps);
    if (sigma_next > 0) {
      const double posterior_std = std::sqrt((1 - alpha) * (1 - alpha_bar_next) / (1 - alpha_bar));
      mean = mean + context.drawNoise(sigma, sigma_next) * posterior_std;
      x = mean * std::sqrt(1.0 + sigma_next * sigma_next);
    } else {
      x = mean;
    }
  }
  return x;
}

// Latent Consistency Model sampling (Luo et al. 2023, "Latent Consistency Models", multistep Alg. 1): jump to the
// denoised estimate, then re-noise to the next sigma with fresh noise (ComfyUI sample_lcm, eps noise scaling).
at::Tensor sampleLcm(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    x = denoised;
    if (sigmas[i + 1] > 0) x = x + context.drawNoise(sigmas[i], sigmas[i + 1]) * sigmas[i + 1];
  }
  return x;
}

}  // namespace gesso::diffusion
