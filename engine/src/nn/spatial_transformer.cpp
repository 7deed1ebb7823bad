// SpatialTransformer and its BasicTransformerBlock; see spatial_transformer.h.
#include "gesso/nn/spatial_transformer.h"

#include "gesso/nn/unet_blocks.h"

#include <ATen/ATen.h>

namespace gesso::nn {

FeedForwardImpl::FeedForwardImpl(int64_t dim, const torch::TensorOptions& options) {
  const int64_t inner = 4 * dim;
  auto net = register_module("net", numberedContainer());
  auto geglu = net->register_module("0", numberedContainer());
  proj = geglu->register_module("proj", Linear(dim, 2 * inner, options));
  // 1: Dropout
  output = net->register_module("2", Linear(inner, dim, options));
}

at::Tensor FeedForwardImpl::forward(const at::Tensor& x) {
  const auto halves = proj(x).chunk(2, -1);  // 2 × [B, L, inner]
  return output(halves[0] * at::gelu(halves[1]));
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(int64_t dim, int64_t heads, int64_t head_dim,
                                                     int64_t context_dim, const torch::TensorOptions& options) {
  attn1 = register_module("attn1", CrossAttention(dim, dim, heads, head_dim, options));
  ff = register_module("ff", FeedForward(dim, options));
  attn2 = register_module("attn2", CrossAttention(dim, context_dim, heads, head_dim, options));
  norm1 = register_module("norm1", LayerNorm(dim, options));
  norm2 = register_module("norm2", LayerNorm(dim, options));
  norm3 = register_module("norm3", LayerNorm(dim, options));
}

at::Tensor BasicTransformerBlockImpl::forward(const at::Tensor& x_in, const at::Tensor& context) {
  at::Tensor x = attn1(norm1(x_in)) + x_in;
  x = attn2(norm2(x), context) + x;
  return ff(norm3(x)) + x;
}

SpatialTransformerImpl::SpatialTransformerImpl(int64_t in_channels, int64_t heads, int64_t head_dim, int64_t depth,
                                               int64_t context_dim, ProjectionKind projection_, int64_t norm_groups,
                                               const torch::TensorOptions& options)
    : projection(projection_) {
  const int64_t inner = heads * head_dim;
  norm = register_module("norm", groupNorm(norm_groups, in_channels, options, 1e-6));
  if (projection == ProjectionKind::Conv1x1) {
    proj_in_conv = register_module("proj_in", Conv2d(in_channels, inner, 1, options));
  } else {
    proj_in_linear = register_module("proj_in", Linear(in_channels, inner, options));
  }
  transformer_blocks = register_module("transformer_blocks", torch::nn::ModuleList());
  for (int64_t d = 0; d < depth; ++d) {
    blocks.push_back(BasicTransformerBlock(inner, heads, head_dim, context_dim, options));
    transformer_blocks->push_back(blocks.back());
  }
  if (projection == ProjectionKind::Conv1x1) {
    proj_out_conv = register_module("proj_out", Conv2d(inner, in_channels, 1, options));
  } else {
    proj_out_linear = register_module("proj_out", Linear(inner, in_channels, options));
  }
}

void SpatialTransformerImpl::setAttentionOptions(const AttentionOptions& options) {
  for (auto& block : blocks) {
    block->attn1->attention_options = options;
    block->attn2->attention_options = options;
  }
}

at::Tensor SpatialTransformerImpl::forward(const at::Tensor& x_in, const at::Tensor& context) {
  const int64_t batch = x_in.size(0), height = x_in.size(2), width = x_in.size(3);
  at::Tensor x = norm(x_in);
  if (projection == ProjectionKind::Conv1x1) x = proj_in_conv(x);
  const int64_t inner = x.size(1);
  x = x.reshape({batch, inner, height * width}).transpose(1, 2).contiguous();  // [N, H·W, C]
  if (projection == ProjectionKind::Linear) x = proj_in_linear(x);
  for (auto& block : blocks) x = block(x, context);
  if (projection == ProjectionKind::Linear) x = proj_out_linear(x);
  const int64_t channels = x.size(2);
  x = x.transpose(1, 2).reshape({batch, channels, height, width});  // [N, C, H, W]
  if (projection == ProjectionKind::Conv1x1) x = proj_out_conv(x);
  return x + x_in;
}

}  // namespace gesso::nn
