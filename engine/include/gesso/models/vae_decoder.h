// The autoencoder's Decoder (sgm/modules/diffusionmodules/model.py): the post_quant_conv latent -> image.
// Member names are the checkpoint keys under `decoder.`.
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/models/vae_blocks.h"

#include <torch/nn/modules/container/modulelist.h>

#include <vector>

namespace gesso::models {

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

  std::vector<VaeLevel> levels;  // the entries of `up`, typed: num_res_blocks + 1 blocks, an upsample on all but up.0
};
TORCH_MODULE(VaeDecoder);

}  // namespace gesso::models
