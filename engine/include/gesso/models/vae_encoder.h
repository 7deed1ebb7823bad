// The autoencoder's Encoder (sgm/modules/diffusionmodules/model.py): image -> the pre-quant_conv latent moments.
// Member names are the checkpoint keys under `encoder.`.
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/models/vae_blocks.h"

#include <torch/nn/modules/container/modulelist.h>

#include <vector>

namespace gesso::models {

// One resolution of the encoder: `block.j` ResnetBlocks, each followed by `attn.j` at attention resolutions,
// then `downsample` on every level but the last.
struct VaeDownLevelImpl : torch::nn::Module {
  VaeDownLevelImpl(int64_t in_channels, int64_t out_channels, int num_res_blocks, bool with_attention,
                   bool with_downsample, const torch::TensorOptions& options);
  // Reports "<prefix>block.j", "<prefix>attn.j", "<prefix>downsample".
  torch::Tensor forward(const torch::Tensor& x, const VaeDebugHook& hook, const std::string& prefix);

  torch::nn::ModuleList block;
  torch::nn::ModuleList attn;
  VaeDownsample downsample{nullptr};

  std::vector<VaeResnetBlock> blocks;    // the entries of `block`, typed
  std::vector<VaeAttnBlock> attentions;  // the entries of `attn`, typed (empty or one per block)
};
TORCH_MODULE(VaeDownLevel);

struct VaeEncoderImpl : torch::nn::Module {
  VaeEncoderImpl(const VaeConfig& config, const torch::TensorOptions& options);
  // [N, in_channels, H, W] -> [N, (double_z ? 2 : 1)·z_channels, H/2^(levels-1), W/2^(levels-1)]
  torch::Tensor forward(const torch::Tensor& x, const VaeDebugHook& hook = {});

  nn::Conv2d conv_in{nullptr};
  torch::nn::ModuleList down;
  VaeMid mid{nullptr};
  nn::GroupNorm norm_out{nullptr};
  // nonlinearity: swish, no parameters
  nn::Conv2d conv_out{nullptr};

  std::vector<VaeDownLevel> levels;  // the entries of `down`, typed
};
TORCH_MODULE(VaeEncoder);

}  // namespace gesso::models
