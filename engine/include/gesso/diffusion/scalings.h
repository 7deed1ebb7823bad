// Preconditioning of a denoising network (Karras et al. 2022, "Elucidating the Design Space", table 1):
// denoised = c_skip·x + c_out·F(c_in·x, c_noise). The coefficients for eps-, v- and EDM-parameterised models.
#pragma once

#include <ATen/core/Tensor.h>

namespace gesso::diffusion {

// What the network was trained to predict.
enum class Parameterization {
  Epsilon,   // the added noise (SD 1.x, SD 2.x 512, SDXL)
  Velocity,  // v = α·ε − σ_t·x0 (SD 2.x 768, v-prediction fine-tunes; Salimans & Ho 2022)
  Edm,       // F of Karras et al.: c_out = +σ·σ_data/√(σ²+σ_data²)
};

const char* parameterizationName(Parameterization parameterization);

// c_skip, c_out, c_in with the shape and dtype of the sigma they were computed from (append dimensions before
// multiplying with an image). c_noise depends on the discretization and lives with the Denoiser.
struct Scalings {
  at::Tensor c_skip;
  at::Tensor c_out;
  at::Tensor c_in;
};

// sigma_data is 1 for the DDPM-trained eps and v models (k-diffusion's and sgm's convention) and 0.5 for EDM.
//   Epsilon:  c_skip 1,                  c_out −σ,                      c_in 1/√(σ²+σ_d²)
//   Velocity: c_skip σ_d²/(σ²+σ_d²),     c_out −σ·σ_d/√(σ²+σ_d²),       c_in 1/√(σ²+σ_d²)
//   Edm:      c_skip σ_d²/(σ²+σ_d²),     c_out  σ·σ_d/√(σ²+σ_d²),       c_in 1/√(σ²+σ_d²)
Scalings computeScalings(Parameterization parameterization, const at::Tensor& sigma, double sigma_data);

// EDM's noise conditioning c_noise = ¼·ln σ.
at::Tensor edmNoiseCondition(const at::Tensor& sigma);

}  // namespace gesso::diffusion
