// SDXL conditioner pieces; see sdxl_conditioning.h.
#include "gesso/models/sdxl_conditioning.h"

#include "gesso/error.h"
#include "gesso/nn/timestep_embedding.h"

#include <ATen/ATen.h>

#include <cmath>

namespace gesso::models {
namespace {

void requireSizes(const at::Tensor& values, const char* name, int64_t batch) {
  if (!values.defined() || values.dim() != 2 || values.size(1) != 2 || values.size(0) != batch) {
    fail(ErrorCode::InvalidArgument,
         std::string("SDXL ") + name + " must be [" + std::to_string(batch) + ", 2] (one pair per batch element)");
  }
}

}  // namespace

at::Tensor sdxlConcatTimestepEmbedding(const at::Tensor& values, int64_t dim) {
  if (values.dim() != 2) fail(ErrorCode::InvalidArgument, "size conditions must be [batch, n]");
  const int64_t batch = values.size(0), count = values.size(1);
  return nn::timestepEmbedding(values.reshape({batch * count}), dim).reshape({batch, count * dim});  // [B, n*dim]
}

at::Tensor sdxlCrossAttention(const at::Tensor& hidden0, const at::Tensor& hidden1) {
  if (hidden0.dim() != 3 || hidden1.dim() != 3 || hidden0.size(0) != hidden1.size(0) || hidden0.size(1) != hidden1.size(1)) {
    fail(ErrorCode::ShapeMismatch, "SDXL text hidden states must be [B, L, W] with the same B and L");
  }
  return at::cat({hidden0, hidden1}, 2);  // [B, L, W0 + W1]
}

at::Tensor sdxlVector(const at::Tensor& pooled, const SdxlSizeConditions& sizes, int64_t dim) {
  if (!pooled.defined() || pooled.dim() != 2) {
    fail(ErrorCode::InvalidArgument, "SDXL pooled text embedding must be [batch, projection_dim]");
  }
  const int64_t batch = pooled.size(0);
  requireSizes(sizes.original_size, "original_size", batch);
  requireSizes(sizes.crop_coords_top_left, "crop_coords_top_left", batch);
  requireSizes(sizes.target_size, "target_size", batch);
  const auto embed = [&](const at::Tensor& values) { return sdxlConcatTimestepEmbedding(values.to(pooled.device()), dim); };
  return at::cat({pooled, embed(sizes.original_size), embed(sizes.crop_coords_top_left), embed(sizes.target_size)},
                 1);  // [B, P + 3*2*dim]
}

SdxlConditioning sdxlConditioning(TextEncoderImpl& embedder0, TextEncoderImpl& embedder1, const at::Tensor& ids0,
                                  const at::Tensor& ids1, const SdxlSizeConditions& sizes, int clip_skip) {
  const TextEncoderOutput out0 = embedder0.forward(ids0);
  const TextEncoderOutput out1 = embedder1.forward(ids1);
  if (!out1.pooled.defined()) {
    fail(ErrorCode::ConfigError, "SDXL embedder 1 needs a text projection (projection_dim > 0) for the pooled vector");
  }
  SdxlConditioning result;
  result.crossattn = sdxlCrossAttention(embedder0.conditioning(out0, TextOutputLayer::Penultimate, clip_skip),
                                        embedder1.conditioning(out1, TextOutputLayer::Penultimate, clip_skip));
  result.vector = sdxlVector(out1.pooled, sizes);
  return result;
}

}  // namespace gesso::models
