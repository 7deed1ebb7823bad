// The autoencoder's Decoder (sgm/modules/diffusionmodules/model.py): the post_quant_conv latent -> image.
// Member names are the checkpoint keys under `decoder.`.
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/models/vae_blocks.h"

#include <torch/nn/modules/container/modulelist.h>

#include <vector>

namespace gesso::models {

// One resolution of the decoder: num_res_blocks + 1 ResnetBlocks (`block.j`), each followed by `attn.j` at
// attention resolutions, then `upsample` on every level but level 0.
struct VaeUpLevelImpl : torch::nn::Module {
  VaeUpLevelImpl(int64_t in_channels, int64_t out_channels, int num_res_blocks, bool with_attention,
                 bool with_upsample, const torch::TensorOptions& options);
  // Reports "<prefix>block.j", "<prefix>attn.j", "<prefix>upsample".
  torch::Tensor forward(const torch::Tensor& x, const VaeDebugHook& hook, const std::string& prefix);

  torch::nn::ModuleList block;
  torch::nn::ModuleList attn;
  VaeUpsample upsample{nullptr};

  std::vector<VaeResnetBlock> blocks;    // the entries of `block`, typed
  std::vector<VaeAttnBlock> attentions;  // the entries of `attn`, typed (empty or one per block)
};
TORCH_MODULE(VaeUpLevel);

struct VaeDecoderImpl : torch::nn::Module {
  VaeDecoderImpl(const VaeConfig& config, const torch::TensorOptions& options);
  // [N, z_channels, h, w] -> [N, out_ch, h·2^(levels-1), w·2^(levels-1)]; `up` runs from the highest index down.
  torch::Tensor forward(const torch::Tensor& z, const VaeDebugHook& hook = {});

  nn::Conv2d conv_in{nullptr};
  VaeMid mid{nullptr};
  torch::nn::ModuleList up;  // up.i works at the resolution of the encoder's down.i
  nn::GroupNorm norm_out{nullptr};
  // nonlinearity: swish, no parameters
  nn::Conv2d conv_out{nullptr};

  std::vector<VaeUpLevel> levels;  // the entries of `up`, typed
};
TORCH_MODULE(VaeDecoder);

}  // namespace gesso::models
