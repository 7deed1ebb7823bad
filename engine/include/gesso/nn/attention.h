// Multi-head softmax attention for the UNet's transformer blocks, without materialising every head's full score
// matrix at once: LibTorch's fused scaled_dot_product_attention where it exists (2.x), otherwise exact softmax
// attention computed in query chunks whose score tensor stays under a memory budget.
#pragma once

#include "gesso/nn/layers.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace gesso::nn {

enum class AttentionMethod {
  Auto,     // the fused kernel when this LibTorch has one, otherwise Chunked
  Chunked,  // softmax(Q·Kᵀ·scale)·V over query chunks sized by memory_budget_bytes
};

struct AttentionOptions {
  AttentionMethod method = AttentionMethod::Auto;
  int64_t memory_budget_bytes = int64_t(256) << 20;  // the most one chunk's scores may occupy
};

// True when this build uses at::scaled_dot_product_attention for AttentionMethod::Auto.
bool fusedAttentionAvailable();

// q [B, N, heads·D], k and v [B, M, heads·D] -> [B, N, heads·D]; scale 1/sqrt(D).
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                     const AttentionOptions& options = {});

// sgm CrossAttention / MemoryEfficientCrossAttention: to_q, to_k, to_v (no bias), to_out.0 (1: Dropout).
// Without a context it attends to its own input.
struct CrossAttentionImpl : torch::nn::Module {
  CrossAttentionImpl(int64_t query_dim, int64_t context_dim, int64_t heads, int64_t head_dim,
                     const torch::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context = {});  // [B, N, query_dim]

  Linear to_q{nullptr};
  Linear to_k{nullptr};
  Linear to_v{nullptr};
  torch::nn::ModuleList to_out;
  Linear to_out_projection{nullptr};  // to_out.0
  int64_t heads = 1;
  AttentionOptions attention_options;
};
TORCH_MODULE(CrossAttention);

}  // namespace gesso::nn
