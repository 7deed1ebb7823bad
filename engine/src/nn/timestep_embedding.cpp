// Sinusoidal timestep embedding; see timestep_embedding.h.
#include "gesso/nn/timestep_embedding.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <cmath>

namespace gesso::nn {

at::Tensor timestepEmbedding(const at::Tensor& timesteps, int64_t dim, double max_period) {
  if (timesteps.dim() != 1) {
    fail(ErrorCode::ShapeMismatch, "timestep embedding: timesteps must be a 1-D tensor [N], got " +
                                       std::to_string(timesteps.dim()) + " dimensions");
  }
  if (dim < 1) fail(ErrorCode::InvalidArgument, "timestep embedding: dim must be positive");
  const int64_t half = dim / 2;
  const auto options = timesteps.options().dtype(at::kFloat);
  // The reference computes the frequencies in float32, dividing the float32 arange by `half`.
  const at::Tensor freqs = at::exp(at::arange(0, half, options).mul(-std::log(max_period)).div(half));  // [half]
  const at::Tensor args = timesteps.to(at::kFloat).unsqueeze(1) * freqs.unsqueeze(0);                 // [N, half]
  at::Tensor embedding = at::cat({at::cos(args), at::sin(args)}, 1);                                    // [N, 2·half]
  if (dim % 2 == 1) embedding = at::constant_pad_nd(embedding, {0, 1});                                 // [N, dim]
  return embedding;
}

}  // namespace gesso::nn
