// The autoencoder's Encoder; see vae_encoder.h.
#include "gesso/models/vae_encoder.h"

#include <ATen/ATen.h>

namespace gesso::models {

VaeEncoderImpl::VaeEncoderImpl(const VaeConfig& config, const torch::TensorOptions& options) {
  checkVaeConfig(config);
  const int64_t ch = config.ch;
  const size_t level_count = config.ch_mult.size();
  conv_in = register_module("conv_in", nn::Conv2d(config.in_channels, ch, 3, options, 1, 1));

  down = register_module("down", torch::nn::ModuleList());
  int resolution = config.resolution;  // nominal, for attn_resolutions only
  int64_t block_in = ch;
  for (size_t i = 0; i < level_count; ++i) {
    const int64_t block_out = ch * config.ch_mult[i];
    const bool last = i + 1 == level_count;
    levels.emplace_back(block_in, block_out, config.num_res_blocks, vaeHasAttention(config, resolution),
                        last ? VaeResample::None : VaeResample::Down, config.norm_groups, options);
    down->push_back(levels.back());
    block_in = block_out;
    if (!last) resolution /= 2;
  }

  mid = register_module("mid", VaeMid(block_in, config.norm_groups, options));
  norm_out = register_module("norm_out", vaeNormalize(config.norm_groups, block_in, options));
  const int64_t out_channels = (config.double_z ? 2 : 1) * int64_t{config.z_channels};
  conv_out = register_module("conv_out", nn::Conv2d(block_in, out_channels, 3, options, 1, 1));
}

torch::Tensor VaeEncoderImpl::forward(const torch::Tensor& x, const VaeDebugHook& hook) {
  auto h = conv_in(x);
  if (hook) hook("conv_in", h);
  for (size_t i = 0; i < levels.size(); ++i) h = levels[i]->forward(h, hook, "down." + std::to_string(i) + ".");
  h = mid->forward(h, hook, "mid.");
  return conv_out(at::silu(norm_out(h)));
}

}  // namespace gesso::models
