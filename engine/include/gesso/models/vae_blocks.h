// Building blocks of the LDM/sgm autoencoder (sgm/modules/diffusionmodules/model.py): the timestep-free ResnetBlock,
// the single-head AttnBlock, the resamplers and the middle stage. Member names are the checkpoint keys.
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/nn/layers.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gesso::models {

// Receives the output of each named sub-module during a forward pass ("down.0.block.0", "mid.attn_1", ...), so
// intermediates can be compared against the reference. Empty: nothing is reported.
using VaeDebugHook = std::function<void(const std::string& name, const torch::Tensor& output)>;

// Throws GessoError(ConfigError) naming the field when `config` cannot build an autoencoder (non-positive sizes,
// an empty ch_mult, a width the GroupNorm groups do not divide).
void checkVaeConfig(const VaeConfig& config);

// Whether the encoder/decoder put AttnBlocks after the ResnetBlocks at nominal resolution `resolution`.
bool vaeHasAttention(const VaeConfig& config, int resolution);

// The reference's Normalize(): GroupNorm, eps 1e-6, affine; `groups` is VaeConfig::norm_groups (32 in sgm).
nn::GroupNorm vaeNormalize(int64_t groups, int64_t channels, const torch::TensorOptions& options);

// ResnetBlock with temb_channels = 0 and no conv_shortcut (the autoencoder's form).
struct VaeResnetBlockImpl : torch::nn::Module {
  VaeResnetBlockImpl(int64_t in_channels, int64_t out_channels, int64_t groups, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);  // [N, in, H, W] -> [N, out, H, W]

  nn::GroupNorm norm1;
  nn::Conv2d conv1;
  nn::GroupNorm norm2;
  // dropout: no parameters (identity at inference)
  nn::Conv2d conv2;
  nn::Conv2d nin_shortcut{nullptr};  // 1x1, only where in != out
};
TORCH_MODULE(VaeResnetBlock);

// AttnBlock: one attention head over the H·W positions, with 1x1 convolutions as projections.
struct VaeAttnBlockImpl : torch::nn::Module {
  VaeAttnBlockImpl(int64_t channels, int64_t groups, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);  // [N, C, H, W] -> [N, C, H, W]

  nn::GroupNorm norm;
  nn::Conv2d q;
  nn::Conv2d k;
  nn::Conv2d v;
  nn::Conv2d proj_out;
};
TORCH_MODULE(VaeAttnBlock);

// Downsample with a convolution: pad right and bottom by one, then a 3x3 stride-2 convolution without padding.
struct VaeDownsampleImpl : torch::nn::Module {
  VaeDownsampleImpl(int64_t channels, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);  // [N, C, H, W] -> [N, C, floor(H/2), floor(W/2)]

  nn::Conv2d conv;
};
TORCH_MODULE(VaeDownsample);

// Upsample with a convolution: nearest-neighbour ×2, then a 3x3 convolution.
struct VaeUpsampleImpl : torch::nn::Module {
  VaeUpsampleImpl(int64_t channels, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);  // [N, C, H, W] -> [N, C, 2H, 2W]

  nn::Conv2d conv;
};
TORCH_MODULE(VaeUpsample);

// The middle stage shared by encoder and decoder: ResnetBlock, AttnBlock, ResnetBlock.
struct VaeMidImpl : torch::nn::Module {
  VaeMidImpl(int64_t channels, int64_t groups, const torch::TensorOptions& options);
  // Reports "<prefix>block_1", "<prefix>attn_1", "<prefix>block_2" to `hook`.
  torch::Tensor forward(const torch::Tensor& x, const VaeDebugHook& hook, const std::string& prefix);

  VaeResnetBlock block_1;
  VaeAttnBlock attn_1;
  VaeResnetBlock block_2;
};
TORCH_MODULE(VaeMid);

// What ends one resolution level: nothing, a `downsample` (encoder) or an `upsample` (decoder).
enum class VaeResample { None, Down, Up };

// One resolution of the encoder (`down.i`) or decoder (`up.i`): `block_count` ResnetBlocks (`block.j`), each followed
// by `attn.j` at attention resolutions, then the resampler, registered as `downsample` or `upsample`.
struct VaeLevelImpl : torch::nn::Module {
  VaeLevelImpl(int64_t in_channels, int64_t out_channels, int block_count, bool with_attention, VaeResample resample,
               int64_t groups, const torch::TensorOptions& options);
  // Reports "<prefix>block.j", "<prefix>attn.j" and "<prefix>downsample" / "<prefix>upsample".
  torch::Tensor forward(const torch::Tensor& x, const VaeDebugHook& hook, const std::string& prefix);

  torch::nn::ModuleList block;
  torch::nn::ModuleList attn;
  VaeDownsample downsample{nullptr};  // only with VaeResample::Down
  VaeUpsample upsample{nullptr};      // only with VaeResample::Up

  std::vector<VaeResnetBlock> blocks;    // the entries of `block`, typed
  std::vector<VaeAttnBlock> attentions;  // the entries of `attn`, typed (empty or one per block)
};
TORCH_MODULE(VaeLevel);

}  // namespace gesso::models
