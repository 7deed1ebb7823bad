// Denoiser preconditioning coefficients for eps, v and EDM networks; see scalings.h.
#include "gesso/diffusion/scalings.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <vector>

namespace gesso::diffusion {

Scalings computeScalings(Prediction prediction, const at::Tensor& sigma, double sigma_data) {
  if (!sigma.defined() || !sigma.is_floating_point())
    fail(ErrorCode::InvalidArgument, "scalings: sigma must be a floating-point tensor");
  const at::Tensor sigma2 = sigma * sigma;
  switch (prediction) {
    case Prediction::Epsilon:
      // x = x0 + sigma * eps  =>  x0 = x - sigma * eps; the network sees the VP input x / sqrt(sigma^2 + 1).
      return {at::ones_like(sigma), -sigma, (sigma2 + 1).rsqrt(), sigma.clone()};
    case Prediction::V:
      // With alpha = 1/sqrt(sigma^2+1): x0 = alpha * x_vp - sigma_vp * v = x / (sigma^2 + 1) - sigma / sqrt(sigma^2+1) * v.
      return {1 / (sigma2 + 1), -sigma * (sigma2 + 1).rsqrt(), (sigma2 + 1).rsqrt(), sigma.clone()};
    case Prediction::Edm: {
      if (!(sigma_data > 0)) fail(ErrorCode::InvalidArgument, "scalings: sigma_data must be positive");
      const double sd2 = sigma_data * sigma_data;
      return {sd2 / (sigma2 + sd2), sigma * sigma_data * (sigma2 + sd2).rsqrt(), (sigma2 + sd2).rsqrt(), 0.25 * sigma.log()};
    }
  }
  fail(ErrorCode::InvalidArgument, "scalings: unknown prediction type");
}

Denoiser makeDenoiser(Prediction prediction, NetworkFunction network, double sigma_data) {
  return [prediction, network = std::move(network), sigma_data](const at::Tensor& x, const at::Tensor& sigma) {
    const Scalings s = computeScalings(prediction, sigma, sigma_data);
    std::vector<int64_t> shape(x.dim(), 1);
    shape[0] = x.size(0);
    const auto expand = [&](const at::Tensor& c) { return c.reshape(shape); };  // [B, 1, ..., 1]
    return network(x * expand(s.c_in), s.c_noise) * expand(s.c_out) + x * expand(s.c_skip);
  };
}

}  // namespace gesso::diffusion
