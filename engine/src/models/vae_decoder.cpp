// The autoencoder's Decoder; see vae_decoder.h.
#include "gesso/models/vae_decoder.h"

#include <ATen/ATen.h>

namespace gesso::models {

VaeDecoderImpl::VaeDecoderImpl(const VaeConfig& config, const torch::TensorOptions& options) {
  checkVaeConfig(config);
  const int64_t ch = config.ch;
  const int level_count = static_cast<int>(config.ch_mult.size());
  int64_t block_in = ch * config.ch_mult.back();
  conv_in = register_module("conv_in", nn::Conv2d(config.z_channels, block_in, 3, options, 1, 1));
  mid = register_module("mid", VaeMid(block_in, config.norm_groups, options));

  // Levels are built from the lowest resolution (the highest index) up, as each takes the previous one's width.
  int resolution = config.resolution >> (level_count - 1);  // nominal, for attn_resolutions only
  std::vector<VaeLevel> built(level_count, VaeLevel{nullptr});
  for (int i = level_count - 1; i >= 0; --i) {
    const int64_t block_out = ch * config.ch_mult[i];
    // The decoder's levels have one ResnetBlock more than the encoder's.
    built[i] = VaeLevel(block_in, block_out, config.num_res_blocks + 1, vaeHasAttention(config, resolution),
                        i != 0 ? VaeResample::Up : VaeResample::None, config.norm_groups, options);
    block_in = block_out;
    if (i != 0) resolution *= 2;
  }
  up = register_module("up", torch::nn::ModuleList());
  for (auto& level : built) {
    levels.push_back(level);
    up->push_back(level);
  }

  norm_out = register_module("norm_out", vaeNormalize(config.norm_groups, block_in, options));
  conv_out = register_module("conv_out", nn::Conv2d(block_in, config.out_ch, 3, options, 1, 1));
}

torch::Tensor VaeDecoderImpl::forward(const torch::Tensor& z, const VaeDebugHook& hook) {
  auto h = conv_in(z);
  if (hook) hook("conv_in", h);
  h = mid->forward(h, hook, "mid.");
  for (int i = static_cast<int>(levels.size()) - 1; i >= 0; --i) {
    h = levels[i]->forward(h, hook, "up." + std::to_string(i) + ".");
  }
  return conv_out(at::silu(norm_out(h)));
}

}  // namespace gesso::models
