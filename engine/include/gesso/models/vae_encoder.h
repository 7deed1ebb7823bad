// The autoencoder's Encoder (sgm/modules/diffusionmodules/model.py): image -> the pre-quant_conv latent moments.
// Member names are the checkpoint keys under `encoder.`.
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/models/vae_blocks.h"

#include <torch/nn/modules/container/modulelist.h>

#include <vector>

namespace gesso::models {

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

  std::vector<VaeLevel> levels;  // the entries of `down`, typed: num_res_blocks blocks, a downsample on all but the last
};
TORCH_MODULE(VaeEncoder);

}  // namespace gesso::models
