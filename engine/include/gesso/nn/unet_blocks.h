// The UNet's convolutional blocks as sgm's openaimodel.py names them: ResBlock (timestep-conditioned residual
// block), Downsample (strided conv) and Upsample (nearest ×2 then conv). 2-D only, no scale-shift norm.
#pragma once

#include "gesso/nn/layers.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>

namespace gesso::nn {

// in_layers (0 GroupNorm, 1 SiLU, 2 conv3×3), emb_layers (0 SiLU, 1 Linear), out_layers (0 GroupNorm, 1 SiLU,
// 2 Dropout, 3 conv3×3), skip_connection (conv1×1 when the width changes, otherwise identity).
struct ResBlockImpl : torch::nn::Module {
  ResBlockImpl(int64_t channels, int64_t emb_channels, int64_t out_channels, int64_t norm_groups,
               const torch::TensorOptions& options);
  // x [N, channels, H, W], emb [N, emb_channels] -> [N, out_channels, H, W]
  at::Tensor forward(const at::Tensor& x, const at::Tensor& emb);

  GroupNorm in_norm{nullptr};     // in_layers.0
  Conv2d in_conv{nullptr};        // in_layers.2
  Linear emb_linear{nullptr};     // emb_layers.1
  GroupNorm out_norm{nullptr};    // out_layers.0
  Conv2d out_conv{nullptr};       // out_layers.3
  Conv2d skip_connection{nullptr};  // null: identity
};
TORCH_MODULE(ResBlock);

// op: conv3×3, stride 2, padding 1.
struct DownsampleImpl : torch::nn::Module {
  DownsampleImpl(int64_t channels, int64_t out_channels, const torch::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x);  // [N, C, H, W] -> [N, out, ceil(H/2), ceil(W/2)]

  Conv2d op{nullptr};
};
TORCH_MODULE(Downsample);

// Nearest-neighbour ×2, then conv: conv3×3.
struct UpsampleImpl : torch::nn::Module {
  UpsampleImpl(int64_t channels, int64_t out_channels, const torch::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x);  // [N, C, H, W] -> [N, out, 2H, 2W]

  Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample);

// sgm's GroupNorm32 with `groups` groups (UNetConfig::norm_groups, 32 in sgm), eps 1e-5; a ConfigError when
// `groups` does not divide `channels`.
GroupNorm groupNorm(int64_t groups, int64_t channels, const torch::TensorOptions& options, double eps = 1e-5);
// GroupNorm32's forward: normalises in float32 whatever the dtype, then returns to x's dtype.
at::Tensor groupNormFloat32(GroupNorm& norm, const at::Tensor& x);

// A parameter-free container for numbered children (e.g. in_layers.0, in_layers.2), since module names cannot
// contain dots.
std::shared_ptr<torch::nn::Module> numberedContainer();

}  // namespace gesso::nn
