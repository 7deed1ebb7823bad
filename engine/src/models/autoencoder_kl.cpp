// AutoencoderKL: encoder/decoder plus the 1x1 quant convolutions and the diagonal Gaussian; see autoencoder_kl.h.
#include "gesso/models/autoencoder_kl.h"

#include "gesso/error.h"
#include "gesso/util/shape_text.h"

#include <ATen/ATen.h>

#include <sstream>

namespace gesso::models {

namespace {

// A clear error instead of a LibTorch one for inputs the network cannot take.
void checkInput(const torch::Tensor& input, int64_t channels, int64_t min_size, const torch::Tensor& weight,
                const char* what) {
  if (!input.defined()) fail(ErrorCode::InvalidArgument, std::string("AutoencoderKL: ") + what + " is undefined");
  if (input.dim() != 4 || input.size(1) != channels || input.size(0) < 1 || input.size(2) < min_size ||
      input.size(3) < min_size) {
    fail(ErrorCode::ShapeMismatch, std::string("AutoencoderKL: ") + what + " must be [B, " + std::to_string(channels) +
                                       ", H, W] with B >= 1 and H, W >= " + std::to_string(min_size) + ", got " +
                                       shapeText(input));
  }
  if (input.scalar_type() != weight.scalar_type() || input.device() != weight.device()) {
    std::ostringstream detail;
    detail << "AutoencoderKL: " << what << " is " << input.scalar_type() << " on " << input.device()
           << " but the weights are " << weight.scalar_type() << " on " << weight.device();
    fail(ErrorCode::InvalidArgument, detail.str());
  }
}

// Prefixes the names a sub-network reports.
VaeDebugHook prefixed(const VaeDebugHook& hook, const std::string& prefix) {
  if (!hook) return {};
  return [hook, prefix](const std::string& name, const torch::Tensor& output) { hook(prefix + name, output); };
}

}  // namespace

DiagonalGaussian DiagonalGaussian::fromMoments(const torch::Tensor& moments) {
  if (moments.dim() != 4 || moments.size(1) % 2 != 0) {
    fail(ErrorCode::ShapeMismatch, "DiagonalGaussian: moments must be [B, 2·C, h, w], got " + shapeText(moments));
  }
  const auto halves = moments.chunk(2, 1);  // 2 x [B, C, h, w]
  DiagonalGaussian gaussian;
  gaussian.mean = halves[0];
  gaussian.logvar = at::clamp(halves[1], -30.0, 20.0);
  gaussian.std = at::exp(0.5 * gaussian.logvar);
  return gaussian;
}

torch::Tensor DiagonalGaussian::sample(const torch::Tensor& noise) const {
  if (!noise.defined() || noise.sizes() != mean.sizes()) {
    fail(ErrorCode::ShapeMismatch, "DiagonalGaussian::sample: noise must be shaped like the mean " + shapeText(mean) +
                                       ", got " + (noise.defined() ? shapeText(noise) : std::string("undefined")));
  }
  return mean + std * noise;
}

AutoencoderKLImpl::AutoencoderKLImpl(const VaeConfig& config, const torch::TensorOptions& options) : config_(config) {
  checkVaeConfig(config);
  encoder = register_module("encoder", VaeEncoder(config, options));
  decoder = register_module("decoder", VaeDecoder(config, options));
  const int64_t moment_factor = config.double_z ? 2 : 1;
  quant_conv = register_module(
      "quant_conv", nn::Conv2d(moment_factor * config.z_channels, moment_factor * config.embed_dim, 1, options));
  post_quant_conv = register_module("post_quant_conv", nn::Conv2d(config.embed_dim, config.z_channels, 1, options));
}

torch::Tensor AutoencoderKLImpl::encodeMoments(const torch::Tensor& x, const VaeDebugHook& hook) {
  // Each downsample halves (floored) a side, and a side of 1 cannot be downsampled.
  checkInput(x, config_.in_channels, downscaleFactor(), quant_conv->weight, "the image");
  return quant_conv(encoder->forward(x, prefixed(hook, "encoder.")));
}

AutoencoderKLImpl::Gaussian AutoencoderKLImpl::encode(const torch::Tensor& x) {
  if (!config_.double_z) {
    fail(ErrorCode::ConfigError, "AutoencoderKL::encode: double_z is false, so the encoder gives no variance");
  }
  return DiagonalGaussian::fromMoments(encodeMoments(x));
}

torch::Tensor AutoencoderKLImpl::decode(const torch::Tensor& z, const VaeDebugHook& hook) {
  checkInput(z, config_.embed_dim, 1, post_quant_conv->weight, "the latent");
  return decoder->forward(post_quant_conv(z), prefixed(hook, "decoder."));
}

}  // namespace gesso::models
