// Small helpers shared by the samplers (k-diffusion's to_d and get_ancestral_step, and the two halves of an
// ancestral step).
#pragma once

#include "gesso/diffusion/sampler.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace gesso::diffusion::detail {

// The probability-flow ODE derivative dx/dsigma = (x - D) / sigma.
inline at::Tensor toD(const at::Tensor& x, double sigma, const at::Tensor& denoised) { return (x - denoised) / sigma; }

// Splits a move sigma_from -> sigma_to into a deterministic part down to sigma_down and fresh noise of std sigma_up,
// with sigma_down^2 + sigma_up^2 = sigma_to^2; eta = 1 is DDPM's ancestral step, eta = 0 is deterministic.
struct AncestralStep {
  double down = 0;
  double up = 0;
};
inline AncestralStep ancestralStep(double sigma_from, double sigma_to, double eta) {
  if (eta == 0) return {sigma_to, 0.0};
  const double up = std::min(sigma_to, eta * std::sqrt(sigma_to * sigma_to * (sigma_from * sigma_from - sigma_to * sigma_to) /
                                                       (sigma_from * sigma_from)));
  const double down = std::sqrt(sigma_to * sigma_to - up * up);
  return {down, up};
}

inline int stepCount(const std::vector<double>& sigmas) { return static_cast<int>(sigmas.size()) - 1; }

// The first half of step i of an ancestral sampler: x denoised at sigmas[i] (and reported), and the move to
// sigmas[i + 1] split into sigma_down and sigma_up.
struct AncestralEvaluation {
  at::Tensor denoised;
  double sigma_down = 0;
  double sigma_up = 0;
};
inline AncestralEvaluation evaluateAncestral(SamplerContext& context, const at::Tensor& x,
                                             const std::vector<double>& sigmas, int i, double eta) {
  const at::Tensor denoised = context.denoise(x, sigmas[i]);
  const AncestralStep step = ancestralStep(sigmas[i], sigmas[i + 1], eta);
  context.report(i, stepCount(sigmas), sigmas[i], sigmas[i], x, denoised);
  return {denoised, step.down, step.up};
}

// The second half: fresh noise of std sigma_up (times s_noise), except on a last step down to sigma_next = 0.
inline at::Tensor addAncestralNoise(SamplerContext& context, const at::Tensor& x, double sigma, double sigma_next,
                                    double sigma_up) {
  if (!(sigma_next > 0)) return x;
  return x + context.drawNoise(sigma, sigma_next) * context.options.s_noise * sigma_up;
}

}  // namespace gesso::diffusion::detail
