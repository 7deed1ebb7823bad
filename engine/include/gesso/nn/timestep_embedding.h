// Sinusoidal timestep embedding of sgm/LDM (`timestep_embedding` in diffusionmodules/util.py): cosines first, then
// sines, frequencies exp(-ln(max_period) · i / half). Used by the UNet and by SDXL's size conditioning.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace gesso::nn {

// timesteps [N] (any numeric dtype, fractional values allowed) -> [N, dim] float32.
// An odd dim gets a zero column at the end, as the reference pads it.
at::Tensor timestepEmbedding(const at::Tensor& timesteps, int64_t dim, double max_period = 10000.0);

}  // namespace gesso::nn
