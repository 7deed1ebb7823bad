// The autoencoder's building blocks over ATen ops; see vae_blocks.h.
#include "gesso/models/vae_blocks.h"

#include "gesso/error.h"
#include "gesso/nn/attention.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace gesso::models {

namespace {

void requirePositive(int value, const char* field) {
  if (value <= 0) fail(ErrorCode::ConfigError, std::string("VAE config: ") + field + " must be positive, got " + std::to_string(value));
}

}  // namespace

void checkVaeConfig(const VaeConfig& config) {
  requirePositive(config.embed_dim, "embed_dim");
  requirePositive(config.z_channels, "z_channels");
  requirePositive(config.resolution, "resolution");
  requirePositive(config.in_channels, "in_channels");
  requirePositive(config.out_ch, "out_ch");
  requirePositive(config.ch, "ch");
  requirePositive(config.num_res_blocks, "num_res_blocks");
  requirePositive(config.norm_groups, "norm_num_groups");
  if (config.ch_mult.empty()) fail(ErrorCode::ConfigError, "VAE config: ch_mult must list at least one level");
  for (size_t i = 0; i < config.ch_mult.size(); ++i) {
    const std::string field = "ch_mult[" + std::to_string(i) + "]";
    requirePositive(config.ch_mult[i], field.c_str());
    if ((int64_t{config.ch} * config.ch_mult[i]) % config.norm_groups != 0) {
      fail(ErrorCode::ConfigError, "VAE config: ch * " + field + " = " + std::to_string(config.ch * config.ch_mult[i]) +
                                       " must be a multiple of norm_num_groups " + std::to_string(config.norm_groups));
    }
  }
  if (config.ch % config.norm_groups != 0) {
    fail(ErrorCode::ConfigError, "VAE config: ch = " + std::to_string(config.ch) + " must be a multiple of norm_num_groups " +
                                     std::to_string(config.norm_groups));
  }
}

bool vaeHasAttention(const VaeConfig& config, int resolution) {
  return std::find(config.attn_resolutions.begin(), config.attn_resolutions.end(), resolution) !=
         config.attn_resolutions.end();
}

nn::GroupNorm vaeNormalize(int64_t groups, int64_t channels, const torch::TensorOptions& options) {
  return nn::GroupNorm(groups, channels, options, 1e-6);
}

VaeResnetBlockImpl::VaeResnetBlockImpl(int64_t in_channels, int64_t out_channels, int64_t groups,
                                       const torch::TensorOptions& options)
    : norm1(register_module("norm1", vaeNormalize(groups, in_channels, options))),
      conv1(register_module("conv1", nn::Conv2d(in_channels, out_channels, 3, options, 1, 1))),
      norm2(register_module("norm2", vaeNormalize(groups, out_channels, options))),
      conv2(register_module("conv2", nn::Conv2d(out_channels, out_channels, 3, options, 1, 1))) {
  if (in_channels != out_channels) {
    nin_shortcut = register_module("nin_shortcut", nn::Conv2d(in_channels, out_channels, 1, options));
  }
}

torch::Tensor VaeResnetBlockImpl::forward(const torch::Tensor& x) {
  auto h = conv1(at::silu(norm1(x)));
  h = conv2(at::silu(norm2(h)));
  return (nin_shortcut ? nin_shortcut(x) : x) + h;
}

VaeAttnBlockImpl::VaeAttnBlockImpl(int64_t channels, int64_t groups, const torch::TensorOptions& options)
    : norm(register_module("norm", vaeNormalize(groups, channels, options))),
      q(register_module("q", nn::Conv2d(channels, channels, 1, options))),
      k(register_module("k", nn::Conv2d(channels, channels, 1, options))),
      v(register_module("v", nn::Conv2d(channels, channels, 1, options))),
      proj_out(register_module("proj_out", nn::Conv2d(channels, channels, 1, options))) {}

torch::Tensor VaeAttnBlockImpl::forward(const torch::Tensor& x) {
  const int64_t batch = x.size(0);
  const int64_t channels = x.size(1);
  const int64_t height = x.size(2);
  const int64_t width = x.size(3);
  const auto normed = norm(x);
  // Each position is a token: [N, C, H, W] -> [N, H·W, C].
  const auto tokens = [&](const torch::Tensor& t) {
    return t.reshape({batch, channels, height * width}).transpose(1, 2).contiguous();  // [N, H·W, C]
  };
  const auto attended = nn::attention(tokens(q(normed)), tokens(k(normed)), tokens(v(normed)), /*heads=*/1);  // [N, H·W, C]
  const auto h = attended.transpose(1, 2).reshape({batch, channels, height, width});  // [N, C, H, W]
  return x + proj_out(h);
}

VaeDownsampleImpl::VaeDownsampleImpl(int64_t channels, const torch::TensorOptions& options)
    : conv(register_module("conv", nn::Conv2d(channels, channels, 3, options, 2, 0))) {}

torch::Tensor VaeDownsampleImpl::forward(const torch::Tensor& x) {
  // No asymmetric padding in conv2d: zero-pad (left 0, right 1, top 0, bottom 1) first.
  return conv(at::constant_pad_nd(x, {0, 1, 0, 1}, 0));
}

VaeUpsampleImpl::VaeUpsampleImpl(int64_t channels, const torch::TensorOptions& options)
    : conv(register_module("conv", nn::Conv2d(channels, channels, 3, options, 1, 1))) {}

torch::Tensor VaeUpsampleImpl::forward(const torch::Tensor& x) {
  return conv(at::upsample_nearest2d(x, {2 * x.size(2), 2 * x.size(3)}, 2.0, 2.0));
}

VaeMidImpl::VaeMidImpl(int64_t channels, int64_t groups, const torch::TensorOptions& options)
    : block_1(register_module("block_1", VaeResnetBlock(channels, channels, groups, options))),
      attn_1(register_module("attn_1", VaeAttnBlock(channels, groups, options))),
      block_2(register_module("block_2", VaeResnetBlock(channels, channels, groups, options))) {}

torch::Tensor VaeMidImpl::forward(const torch::Tensor& x, const VaeDebugHook& hook, const std::string& prefix) {
  auto h = block_1(x);
  if (hook) hook(prefix + "block_1", h);
  h = attn_1(h);
  if (hook) hook(prefix + "attn_1", h);
  h = block_2(h);
  if (hook) hook(prefix + "block_2", h);
  return h;
}

VaeLevelImpl::VaeLevelImpl(int64_t in_channels, int64_t out_channels, int block_count, bool with_attention,
                           VaeResample resample, int64_t groups, const torch::TensorOptions& options)
    : block(register_module("block", torch::nn::ModuleList())), attn(register_module("attn", torch::nn::ModuleList())) {
  for (int j = 0; j < block_count; ++j) {
    blocks.emplace_back(j == 0 ? in_channels : out_channels, out_channels, groups, options);
    block->push_back(blocks.back());
    if (with_attention) {
      attentions.emplace_back(out_channels, groups, options);
      attn->push_back(attentions.back());
    }
  }
  if (resample == VaeResample::Down) downsample = register_module("downsample", VaeDownsample(out_channels, options));
  if (resample == VaeResample::Up) upsample = register_module("upsample", VaeUpsample(out_channels, options));
}

torch::Tensor VaeLevelImpl::forward(const torch::Tensor& x, const VaeDebugHook& hook, const std::string& prefix) {
  torch::Tensor h = x;
  for (size_t j = 0; j < blocks.size(); ++j) {
    h = blocks[j](h);
    if (hook) hook(prefix + "block." + std::to_string(j), h);
    if (!attentions.empty()) {
      h = attentions[j](h);
      if (hook) hook(prefix + "attn." + std::to_string(j), h);
    }
  }
  if (downsample) {
    h = downsample(h);
    if (hook) hook(prefix + "downsample", h);
  }
  if (upsample) {
    h = upsample(h);
    if (hook) hook(prefix + "upsample", h);
  }
  return h;
}

}  // namespace gesso::models
