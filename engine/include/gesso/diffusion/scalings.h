// Denoiser preconditioning (sgm's EpsScaling / VScaling / EDMScaling; Karras et al. 2022, Table 1):
// D(x, sigma) = c_skip * x + c_out * F(c_in * x, c_noise). Formulas only; the network wrapper lives with the models.
#pragma once

#include "gesso/diffusion/sampler.h"

#include <ATen/core/Tensor.h>

#include <functional>

namespace gesso::diffusion {

enum class Prediction {
  Epsilon,  // SD 1.x, SD 2.x 512, SDXL: the network predicts the noise
  V,        // SD 2.x 768 and v-prediction fine-tunes: v = alpha * eps - sigma_vp * x0 (Salimans & Ho 2022)
  Edm,      // Karras et al. 2022 preconditioning with sigma_data
};

// Each coefficient has sigma's shape ([B]); c_noise is sigma itself for Epsilon/V (a discrete model converts it to a
// timestep, e.g. DiscreteSchedule::sigmaToTimestep) and log(sigma)/4 for Edm.
struct Scalings {
  at::Tensor c_skip;
  at::Tensor c_out;
  at::Tensor c_in;
  at::Tensor c_noise;
};
Scalings computeScalings(Prediction prediction, const at::Tensor& sigma, double sigma_data = 0.5);

// The network as the denoiser sees it: F(scaled x, c_noise) -> eps, v or EDM output, same shape as x.
using NetworkFunction = std::function<at::Tensor(const at::Tensor& scaled_x, const at::Tensor& c_noise)>;
// Wraps a network into a Denoiser by the scalings above (coefficients broadcast over x's non-batch dims).
Denoiser makeDenoiser(Prediction prediction, NetworkFunction network, double sigma_data = 0.5);

}  // namespace gesso::diffusion
