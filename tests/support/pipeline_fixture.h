// Tiny random full checkpoints for the pipeline tests: an SD1-style one (one CLIP text encoder, context_dim = its
// width; optionally a 9-channel inpainting UNet) and an SDXL-style one (two encoders, pooled projection, adm), each
// written as one .safetensors file in the real LDM/sgm key layout so that resolveConfig detects its config.
#pragma once

#include "gesso/io/safetensors.h"
#include "gesso/models/autoencoder_kl.h"
#include "gesso/models/clip_text.h"
#include "gesso/models/model_config.h"
#include "gesso/models/model_loader.h"
#include "gesso/models/unet.h"
#include "gesso/nn/layers.h"
#include "golden.h"

#include <QFile>

#include <string>
#include <utility>
#include <vector>

namespace gesso::test {

inline TextEncoderConfig tinyTextConfig(TextEncoderLayout layout, int projection_dim, TextOutputLayer output) {
  TextEncoderConfig text;
  text.layout = layout;
  text.width = 64;
  text.layers = 2;
  text.heads = 1;
  text.mlp_width = 256;
  text.activation = layout == TextEncoderLayout::OpenClip ? TextActivation::Gelu : TextActivation::QuickGelu;
  text.projection_dim = projection_dim;
  text.output_layer = output;
  text.pad_token = layout == TextEncoderLayout::OpenClip ? 0 : 49407;
  return text;
}

inline VaeConfig tinyVaeConfig() {
  VaeConfig vae;
  vae.ch = 32;
  vae.ch_mult = {1, 1, 1, 1};  // 8x downscaling, as the real VAE
  vae.num_res_blocks = 1;
  return vae;
}

// SD1-style: UNet with conv projections and num_heads 8 (what detection assumes), in_channels 4 or 9.
inline ModelConfig tinySd1Config(int in_channels = 4) {
  ModelConfig config;
  config.family = ModelFamily::SD1;
  config.unet.in_channels = in_channels;
  config.unet.model_channels = 32;
  config.unet.channel_mult = {1, 2};
  config.unet.num_res_blocks = {1, 1};
  config.unet.attention_resolutions = {2, 1};
  config.unet.transformer_depth = {1, 1};
  config.unet.num_heads = 8;
  config.unet.context_dim = 64;
  config.vae = tinyVaeConfig();
  config.text_encoders = {tinyTextConfig(TextEncoderLayout::HuggingFaceClip, 0, TextOutputLayer::Last)};
  return config;
}

// SD2-style: one open_clip text encoder (zero padding, penultimate layer normed), linear projections.
inline ModelConfig tinySd2Config() {
  ModelConfig config = tinySd1Config();
  config.family = ModelFamily::SD2;
  config.unet.model_channels = 64;
  config.unet.num_heads = -1;
  config.unet.num_head_channels = 64;
  config.unet.use_linear_in_transformer = true;
  config.text_encoders = {tinyTextConfig(TextEncoderLayout::OpenClip, 0, TextOutputLayer::PenultimateNormed)};
  return config;
}

// SDXL-style: linear projections with 64-channel heads, context 64 + 64, adm = pooled 32 + 6·256.
inline ModelConfig tinySdxlConfig() {
  ModelConfig config;
  config.family = ModelFamily::SDXL;
  config.unet.model_channels = 64;
  config.unet.channel_mult = {1, 2};
  config.unet.num_res_blocks = {1, 1};
  config.unet.attention_resolutions = {2, 1};
  config.unet.transformer_depth = {1, 1};
  config.unet.num_head_channels = 64;
  config.unet.use_linear_in_transformer = true;
  config.unet.context_dim = 128;
  config.unet.adm_in_channels = 32 + 6 * 256;
  config.vae = tinyVaeConfig();
  config.vae.scale_factor = 0.13025;
  config.text_encoders = {tinyTextConfig(TextEncoderLayout::HuggingFaceClip, 0, TextOutputLayer::Penultimate),
                          tinyTextConfig(TextEncoderLayout::OpenClip, 32, TextOutputLayer::Penultimate)};
  return config;
}

// Builds the networks of `config` with random weights and writes them under their checkpoint keys.
inline void writeTinyCheckpoint(const std::string& path, const ModelConfig& config, uint64_t seed = 7) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  const auto options = at::TensorOptions().dtype(at::kFloat);
  auto add = [&tensors](torch::nn::Module& module, const std::string& prefix, uint64_t module_seed) {
    nn::fillRandomWeights(module, module_seed);
    for (const auto& item : module.named_parameters()) tensors.emplace_back(prefix + item.key(), item.value().detach().clone());
  };
  models::UNet unet(config.unet, options);
  add(*unet, unetPrefix(), seed);
  models::AutoencoderKL vae(config.vae, options);
  add(*vae, vaePrefix(), seed + 1);
  for (size_t i = 0; i < config.text_encoders.size(); ++i) {
    models::TextEncoder text(config.text_encoders[i], options);
    add(*text, textEncoderPrefix(config, i), seed + 2 + i);
  }
  io::writeSafetensors(path, tensors);
}

// The CLIP vocabulary in ../shared, or empty when absent.
inline std::string sharedTokenizerPath() {
  const std::string path = sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz";
  return QFile::exists(QString::fromStdString(path)) ? path : std::string();
}

}  // namespace gesso::test
