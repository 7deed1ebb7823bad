// Small helpers shared by the samplers (k-diffusion's to_d and get_ancestral_step).
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

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

}  // namespace gesso::diffusion::detail
