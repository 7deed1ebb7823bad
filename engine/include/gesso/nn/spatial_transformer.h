// sgm's SpatialTransformer (attention.py): GroupNorm, proj_in (conv1×1 or Linear), transformer_blocks.N
// (BasicTransformerBlock: self-attention, cross-attention to the text context, GEGLU feed-forward), proj_out,
// plus the input as a residual.
#pragma once

#include "gesso/nn/attention.h"
#include "gesso/nn/layers.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace gesso::nn {

enum class ProjectionKind { Conv1x1, Linear };

// ff: net.0 GEGLU (net.0.proj Linear(dim, 2·inner)), 1: Dropout, net.2 Linear(inner, dim); inner = 4·dim.
struct FeedForwardImpl : torch::nn::Module {
  FeedForwardImpl(int64_t dim, const torch::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x);  // [B, L, dim]

  Linear proj{nullptr};    // net.0.proj
  Linear output{nullptr};  // net.2
};
TORCH_MODULE(FeedForward);

// x = attn1(norm1(x)) + x; x = attn2(norm2(x), context) + x; x = ff(norm3(x)) + x.
struct BasicTransformerBlockImpl : torch::nn::Module {
  BasicTransformerBlockImpl(int64_t dim, int64_t heads, int64_t head_dim, int64_t context_dim,
                            const torch::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context);  // [B, L, dim], [B, M, context_dim]

  CrossAttention attn1{nullptr};
  FeedForward ff{nullptr};
  CrossAttention attn2{nullptr};
  LayerNorm norm1{nullptr};
  LayerNorm norm2{nullptr};
  LayerNorm norm3{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

struct SpatialTransformerImpl : torch::nn::Module {
  SpatialTransformerImpl(int64_t in_channels, int64_t heads, int64_t head_dim, int64_t depth, int64_t context_dim,
                         ProjectionKind projection, int64_t norm_groups, const torch::TensorOptions& options);
  // x [N, C, H, W], context [N, M, context_dim] -> [N, C, H, W]
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context);

  void setAttentionOptions(const AttentionOptions& options);

  GroupNorm norm{nullptr};  // eps 1e-6 (sgm Normalize)
  ProjectionKind projection = ProjectionKind::Conv1x1;
  Conv2d proj_in_conv{nullptr};
  Linear proj_in_linear{nullptr};
  torch::nn::ModuleList transformer_blocks;
  std::vector<BasicTransformerBlock> blocks;
  Conv2d proj_out_conv{nullptr};
  Linear proj_out_linear{nullptr};
};
TORCH_MODULE(SpatialTransformer);

}  // namespace gesso::nn
