// ResBlock, Downsample and Upsample of the UNet; see unet_blocks.h.
#include "gesso/nn/unet_blocks.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

namespace gesso::nn {

GroupNorm groupNorm(int64_t groups, int64_t channels, const torch::TensorOptions& options, double eps) {
  if (groups <= 0 || channels % groups != 0) {
    fail(ErrorCode::ConfigError, "GroupNorm with " + std::to_string(groups) +
                                     " groups needs a channel count divisible by it, got " + std::to_string(channels));
  }
  return GroupNorm(groups, channels, options, eps);
}

at::Tensor groupNormFloat32(GroupNorm& norm, const at::Tensor& x) {
  if (x.scalar_type() == at::kFloat && norm->weight.scalar_type() == at::kFloat) return norm->forward(x);
  return at::group_norm(x.to(at::kFloat), norm->groups, norm->weight.to(at::kFloat), norm->bias.to(at::kFloat),
                        norm->eps)
      .to(x.scalar_type());
}

std::shared_ptr<torch::nn::Module> numberedContainer() { return std::make_shared<torch::nn::Module>(); }

ResBlockImpl::ResBlockImpl(int64_t channels, int64_t emb_channels, int64_t out_channels, int64_t norm_groups,
                           const torch::TensorOptions& options) {
  auto in_layers = register_module("in_layers", numberedContainer());
  in_norm = in_layers->register_module("0", groupNorm(norm_groups, channels, options));
  // 1: SiLU
  in_conv = in_layers->register_module("2", Conv2d(channels, out_channels, 3, options, 1, 1));

  auto emb_layers = register_module("emb_layers", numberedContainer());
  // 0: SiLU
  emb_linear = emb_layers->register_module("1", Linear(emb_channels, out_channels, options));

  auto out_layers = register_module("out_layers", numberedContainer());
  out_norm = out_layers->register_module("0", groupNorm(norm_groups, out_channels, options));
  // 1: SiLU; 2: Dropout (identity at inference)
  out_conv = out_layers->register_module("3", Conv2d(out_channels, out_channels, 3, options, 1, 1));

  if (out_channels != channels) {
    skip_connection = register_module("skip_connection", Conv2d(channels, out_channels, 1, options));
  }
}

at::Tensor ResBlockImpl::forward(const at::Tensor& x, const at::Tensor& emb) {
  at::Tensor h = in_conv(at::silu(groupNormFloat32(in_norm, x)));
  const at::Tensor emb_out = emb_linear(at::silu(emb)).to(h.scalar_type());  // [N, out]
  h = h + emb_out.unsqueeze(-1).unsqueeze(-1);                               // [N, out, 1, 1] broadcast
  h = out_conv(at::silu(groupNormFloat32(out_norm, h)));
  return (skip_connection ? skip_connection(x) : x) + h;
}

DownsampleImpl::DownsampleImpl(int64_t channels, int64_t out_channels, const torch::TensorOptions& options) {
  op = register_module("op", Conv2d(channels, out_channels, 3, options, /*stride=*/2, /*padding=*/1));
}

at::Tensor DownsampleImpl::forward(const at::Tensor& x) { return op(x); }

UpsampleImpl::UpsampleImpl(int64_t channels, int64_t out_channels, const torch::TensorOptions& options) {
  conv = register_module("conv", Conv2d(channels, out_channels, 3, options, 1, 1));
}

at::Tensor UpsampleImpl::forward(const at::Tensor& x) {
  const at::Tensor up = at::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2});  // [N, C, 2H, 2W]
  return conv(up);
}

}  // namespace gesso::nn
