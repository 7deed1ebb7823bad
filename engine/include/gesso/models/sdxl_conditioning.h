// SDXL's conditioner (sgm GeneralConditioner for sd_xl_base): the cross-attention context from both text
// encoders and the `vector` (ADM) input from the pooled text embedding and the size/crop conditions.
#pragma once

#include "gesso/models/clip_text.h"

#include <ATen/core/Tensor.h>

namespace gesso::models {

// Each [B, 2] float: (height, width), (top, left), (height, width) in pixels.
struct SdxlSizeConditions {
  at::Tensor original_size;         // original_size_as_tuple
  at::Tensor crop_coords_top_left;  // crop_coords_top_left
  at::Tensor target_size;           // target_size_as_tuple
};

struct SdxlConditioning {
  at::Tensor crossattn;  // [B, L, W0 + W1]
  at::Tensor vector;     // [B, P1 + 3 * 2 * 256]
};

// sgm ConcatTimestepEmbedderND: every value of [B, n] through timestep_embedding(v, dim) (cos half first,
// max_period 10000), the n embeddings of a row concatenated: [B, n * dim].
at::Tensor sdxlConcatTimestepEmbedding(const at::Tensor& values, int64_t dim = 256);

// cat([emb0 hidden, emb1 hidden], dim 2): [B, L, W0] + [B, L, W1] -> [B, L, W0 + W1].
at::Tensor sdxlCrossAttention(const at::Tensor& hidden0, const at::Tensor& hidden1);

// cat([pooled, cte(original_size), cte(crop_coords_top_left), cte(target_size)], dim 1).
at::Tensor sdxlVector(const at::Tensor& pooled, const SdxlSizeConditions& sizes, int64_t dim = 256);

// Both encoders over their ids (embedder 0: EOT-padded, embedder 1: zero-padded windows), each giving its
// conditioning (the penultimate layer without final LayerNorm by default; clip_skip as in
// TextEncoderImpl::conditioning), embedder 1's pooled projection and the size conditions.
SdxlConditioning sdxlConditioning(TextEncoderImpl& embedder0, TextEncoderImpl& embedder1, const at::Tensor& ids0,
                                  const at::Tensor& ids1, const SdxlSizeConditions& sizes, int clip_skip = 0);

}  // namespace gesso::models
