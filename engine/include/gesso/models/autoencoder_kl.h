// sgm/LDM AutoencoderKL (sgm.models.autoencoder.AutoencodingEngineLegacy): Encoder + quant_conv to the diagonal
// Gaussian's moments, post_quant_conv + Decoder back to an image. Latents here are raw (no scale factor).
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/models/vae_blocks.h"
#include "gesso/models/vae_decoder.h"
#include "gesso/models/vae_encoder.h"

namespace gesso::models {

// DiagonalGaussianDistribution over the latent: moments [B, 2·embed_dim, h, w] split on dim 1.
struct DiagonalGaussian {
  torch::Tensor mean;    // [B, embed_dim, h, w]
  torch::Tensor logvar;  // [B, embed_dim, h, w], clamped to [-30, 20]
  torch::Tensor std;     // exp(logvar / 2)

  static DiagonalGaussian fromMoments(const torch::Tensor& moments);
  // mean + std·noise, with noise ~ N(0, 1) shaped like mean.
  torch::Tensor sample(const torch::Tensor& noise) const;
};

struct AutoencoderKLImpl : torch::nn::Module {
  using Gaussian = DiagonalGaussian;

  AutoencoderKLImpl(const VaeConfig& config, const torch::TensorOptions& options);

  // x [B, in_channels, H, W] in [-1, 1] -> moments [B, 2·embed_dim, H/f, W/f], f = 2^(levels-1) (floored per level).
  // `hook` sees the encoder's intermediates as "encoder.<module name>".
  torch::Tensor encodeMoments(const torch::Tensor& x, const VaeDebugHook& hook = {});
  Gaussian encode(const torch::Tensor& x);
  // z [B, embed_dim, h, w] (raw latent, not multiplied by scale_factor) -> [B, out_ch, h·f, w·f].
  // `hook` sees the decoder's intermediates as "decoder.<module name>".
  torch::Tensor decode(const torch::Tensor& z, const VaeDebugHook& hook = {});

  const VaeConfig& config() const { return config_; }
  int64_t downscaleFactor() const { return int64_t{1} << (config_.ch_mult.size() - 1); }

  VaeEncoder encoder{nullptr};
  VaeDecoder decoder{nullptr};
  nn::Conv2d quant_conv{nullptr};       // 1x1, (1+double_z)·z_channels -> (1+double_z)·embed_dim
  nn::Conv2d post_quant_conv{nullptr};  // 1x1, embed_dim -> z_channels

 private:
  VaeConfig config_;
};
TORCH_MODULE(AutoencoderKL);

}  // namespace gesso::models
