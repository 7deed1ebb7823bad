// Model configs: the released models' presets, detection from checkpoint tensor shapes, a canonical form for
// comparing UNet configs, and JSON text for display. YAML and diffusers parsing live in model_config_*.cpp.
#include "gesso/models/model_config.h"

#include "gesso/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace gesso {

const char* familyName(ModelFamily family) {
  switch (family) {
    case ModelFamily::SD1: return "SD1.x";
    case ModelFamily::SD2: return "SD2.x";
    case ModelFamily::SDXL: return "SDXL";
    case ModelFamily::Custom: return "custom";
  }
  return "unknown";
}

const char* predictionName(Prediction prediction) {
  switch (prediction) {
    case Prediction::Epsilon: return "epsilon";
    case Prediction::V: return "v";
  }
  return "unknown";
}

namespace {

// OpenAI CLIP ViT-L/14's text tower in the HF layout (SD1.x cond_stage_model, SDXL embedder 0).
TextEncoderConfig clipL(TextOutputLayer output_layer) {
  TextEncoderConfig text;
  text.layout = TextEncoderLayout::HuggingFaceClip;
  text.width = 768;
  text.layers = 12;
  text.heads = 12;
  text.mlp_width = 3072;
  text.activation = TextActivation::QuickGelu;
  text.projection_dim = 0;
  text.output_layer = output_layer;
  text.pad_token = 49407;
  return text;
}

// An open_clip text tower (ViT-H-14 for SD2.x, ViT-bigG-14 for SDXL embedder 1); heads are width / 64.
TextEncoderConfig openClip(int width, int layers, int projection_dim, TextOutputLayer output_layer) {
  TextEncoderConfig text;
  text.layout = TextEncoderLayout::OpenClip;
  text.width = width;
  text.layers = layers;
  text.heads = width / 64;
  text.mlp_width = 4 * width;
  text.activation = TextActivation::Gelu;
  text.projection_dim = projection_dim;
  text.output_layer = output_layer;
  text.pad_token = 0;
  return text;
}

}  // namespace

ModelConfig presetConfig(ModelFamily family, Prediction prediction) {
  ModelConfig config;
  config.family = family;
  config.prediction = prediction;
  switch (family) {
    case ModelFamily::SD1:  // CompVis configs/stable-diffusion/v1-inference.yaml
      config.unet = UNetConfig{};
      config.unet.num_heads = 8;
      config.unet.context_dim = 768;
      config.text_encoders = {clipL(TextOutputLayer::Last)};
      break;
    case ModelFamily::SD2:  // generative-models configs/inference/sd_2_1.yaml (and sd_2_1_768.yaml for v)
      config.unet.num_head_channels = 64;
      config.unet.use_linear_in_transformer = true;
      config.unet.context_dim = 1024;
      config.text_encoders = {openClip(1024, 24, 1024, TextOutputLayer::PenultimateNormed)};
      break;
    case ModelFamily::SDXL:  // generative-models configs/inference/sd_xl_base.yaml
      config.unet.channel_mult = {1, 2, 4};
      config.unet.num_res_blocks = {2, 2, 2};
      config.unet.attention_resolutions = {4, 2};
      config.unet.num_head_channels = 64;
      config.unet.transformer_depth = {0, 2, 10};
      config.unet.context_dim = 2048;
      config.unet.adm_in_channels = 2816;
      config.unet.use_linear_in_transformer = true;
      config.vae.scale_factor = 0.13025;
      config.text_encoders = {clipL(TextOutputLayer::Penultimate),
                              openClip(1280, 32, 1280, TextOutputLayer::Penultimate)};
      break;
    case ModelFamily::Custom:
      fail(ErrorCode::ConfigError, "there is no preset for a custom model family");
  }
  return config;
}

namespace {

struct PresetName {
  const char* name;
  ModelFamily family;
  Prediction prediction;
};

constexpr PresetName kPresetNames[] = {
    {"sd15", ModelFamily::SD1, Prediction::Epsilon},     {"sd1", ModelFamily::SD1, Prediction::Epsilon},
    {"sd21", ModelFamily::SD2, Prediction::Epsilon},     {"sd2", ModelFamily::SD2, Prediction::Epsilon},
    {"sd21-v", ModelFamily::SD2, Prediction::V},         {"sd2-768-v", ModelFamily::SD2, Prediction::V},
    {"sdxl", ModelFamily::SDXL, Prediction::Epsilon},
};

}  // namespace

std::vector<std::string> presetNames() {
  std::vector<std::string> names;
  for (const auto& preset : kPresetNames) names.emplace_back(preset.name);
  return names;
}

ModelConfig presetConfig(const std::string& name) {
  for (const auto& preset : kPresetNames) {
    if (name == preset.name) return presetConfig(preset.family, preset.prediction);
  }
  std::string known;
  for (const auto& preset : kPresetNames) known += std::string(known.empty() ? "" : ", ") + preset.name;
  fail(ErrorCode::ConfigError, "unknown model preset \"" + name + "\" (known: " + known + ")");
}

// ---------------------------------------------------------------------------------------------------------------
// Detection from shapes.

namespace {

using ShapeMap = std::map<std::string, std::vector<int64_t>>;

const std::string kUNetPrefix = "model.diffusion_model.";
const std::string kVaePrefix = "first_stage_model.";

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}
bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool hasPrefix(const ShapeMap& shapes, const std::string& prefix) {
  auto it = shapes.lower_bound(prefix);
  return it != shapes.end() && startsWith(it->first, prefix);
}

const std::vector<int64_t>& shapeOf(const ShapeMap& shapes, const std::string& key, size_t rank) {
  auto it = shapes.find(key);
  if (it == shapes.end()) fail(ErrorCode::MissingKey, "config detection needs tensor \"" + key + "\", which is absent");
  if (it->second.size() != rank) {
    fail(ErrorCode::ShapeMismatch, "config detection: tensor \"" + key + "\" has rank " +
                                       std::to_string(it->second.size()) + ", expected " + std::to_string(rank));
  }
  return it->second;
}

// How many consecutive numbered children `prefix<i>.` exist, from 0.
int countIndexed(const ShapeMap& shapes, const std::string& prefix) {
  int count = 0;
  while (hasPrefix(shapes, prefix + std::to_string(count) + ".")) ++count;
  return count;
}

int ratio(int64_t value, int64_t base, const std::string& what) {
  if (base <= 0 || value % base != 0) {
    fail(ErrorCode::ConfigError, "config detection: " + what + " (" + std::to_string(value) +
                                     ") is not a multiple of model_channels (" + std::to_string(base) + ")");
  }
  return static_cast<int>(value / base);
}

UNetConfig detectUNet(const ShapeMap& shapes, const std::string& prefix) {
  UNetConfig unet;
  const auto& conv_in = shapeOf(shapes, prefix + "input_blocks.0.0.weight", 4);  // [C, in, 3, 3]
  unet.model_channels = static_cast<int>(conv_in[0]);
  unet.in_channels = static_cast<int>(conv_in[1]);
  unet.out_channels = static_cast<int>(shapeOf(shapes, prefix + "out.2.weight", 4)[0]);  // [out, C, 3, 3]

  // Input blocks: level by level, res blocks (with an optional SpatialTransformer at index 1) closed by a
  // Downsample (`.0.op`) on every level but the last.
  unet.channel_mult.clear();
  unet.num_res_blocks.clear();
  unet.attention_resolutions.clear();
  unet.transformer_depth.clear();
  const int block_count = countIndexed(shapes, prefix + "input_blocks.");
  int level_blocks = 0;
  int level_depth = 0;
  bool level_attention = false;
  int64_t level_channels = 0;
  auto closeLevel = [&] {
    const int level = static_cast<int>(unet.channel_mult.size());
    if (level_blocks == 0) fail(ErrorCode::ConfigError, "config detection: UNet level " + std::to_string(level) + " has no res blocks");
    unet.channel_mult.push_back(ratio(level_channels, unet.model_channels, "level " + std::to_string(level) + " width"));
    unet.num_res_blocks.push_back(level_blocks);
    unet.transformer_depth.push_back(level_attention ? level_depth : 0);
    if (level_attention) unet.attention_resolutions.push_back(1 << level);
    level_blocks = 0;
    level_depth = 0;
    level_attention = false;
  };
  for (int index = 1; index < block_count; ++index) {
    const std::string block = prefix + "input_blocks." + std::to_string(index) + ".";
    if (shapes.count(block + "0.op.weight")) {
      closeLevel();
      continue;
    }
    level_channels = shapeOf(shapes, block + "0.out_layers.3.weight", 4)[0];  // [C, C, 3, 3]
    ++level_blocks;
    const std::string attention = block + "1.";
    if (hasPrefix(shapes, attention)) {
      const int depth = countIndexed(shapes, attention + "transformer_blocks.");
      if (level_attention && depth != level_depth) {
        fail(ErrorCode::ConfigError, "config detection: transformer depth differs inside one level at " + attention);
      }
      level_attention = true;
      level_depth = depth;
      const auto proj_in = shapes.find(attention + "proj_in.weight");
      if (proj_in == shapes.end()) fail(ErrorCode::MissingKey, "config detection: \"" + attention + "proj_in.weight\" is absent");
      unet.use_linear_in_transformer = proj_in->second.size() == 2;  // Linear [C, C] vs 1x1 Conv [C, C, 1, 1]
    }
  }
  closeLevel();
  std::sort(unet.attention_resolutions.rbegin(), unet.attention_resolutions.rend());
  unet.transformer_depth_middle = countIndexed(shapes, prefix + "middle_block.1.transformer_blocks.");

  // Context width from any cross-attention key projection: [inner, context_dim].
  unet.context_dim = 0;
  for (auto it = shapes.lower_bound(prefix); it != shapes.end() && startsWith(it->first, prefix); ++it) {
    if (endsWith(it->first, ".attn2.to_k.weight") && it->second.size() == 2) {
      unet.context_dim = static_cast<int>(it->second[1]);
      break;
    }
  }
  if (const auto it = shapes.find(prefix + "label_emb.0.0.weight"); it != shapes.end() && it->second.size() == 2) {
    unet.adm_in_channels = static_cast<int>(it->second[1]);  // [time_embed_dim, adm_in_channels]
  }
  // Not in the weights: SD1's conv-projection UNets count heads (8), the linear ones fix the head width (64).
  if (unet.use_linear_in_transformer || unet.adm_in_channels > 0) {
    unet.num_head_channels = 64;
  } else {
    unet.num_heads = 8;
    unet.num_head_channels = -1;
  }
  return canonicalUNet(unet);
}

VaeConfig detectVae(const ShapeMap& shapes, const std::string& prefix) {
  VaeConfig vae;
  const auto& conv_in = shapeOf(shapes, prefix + "encoder.conv_in.weight", 4);  // [ch, in, 3, 3]
  vae.ch = static_cast<int>(conv_in[0]);
  vae.in_channels = static_cast<int>(conv_in[1]);
  const int levels = countIndexed(shapes, prefix + "encoder.down.");
  if (levels == 0) fail(ErrorCode::MissingKey, "config detection: no \"" + prefix + "encoder.down.0.*\" tensors");
  vae.ch_mult.clear();
  vae.attn_resolutions.clear();
  for (int level = 0; level < levels; ++level) {
    const std::string down = prefix + "encoder.down." + std::to_string(level) + ".";
    const int64_t width = shapeOf(shapes, down + "block.0.conv2.weight", 4)[0];
    vae.ch_mult.push_back(ratio(width, vae.ch, "VAE level " + std::to_string(level) + " width"));
    if (hasPrefix(shapes, down + "attn.")) vae.attn_resolutions.push_back(vae.resolution >> level);
  }
  vae.num_res_blocks = countIndexed(shapes, prefix + "encoder.down.0.block.");
  vae.z_channels = static_cast<int>(shapeOf(shapes, prefix + "decoder.conv_in.weight", 4)[1]);  // [C, z, 3, 3]
  vae.double_z = shapeOf(shapes, prefix + "encoder.conv_out.weight", 4)[0] == 2 * vae.z_channels;
  vae.embed_dim = static_cast<int>(shapeOf(shapes, prefix + "post_quant_conv.weight", 4)[0]);  // [embed, embed, 1, 1]
  vae.out_ch = static_cast<int>(shapeOf(shapes, prefix + "decoder.conv_out.weight", 4)[0]);
  return vae;
}

// prefix ends in "text_model.".
TextEncoderConfig detectHfClip(const ShapeMap& shapes, const std::string& prefix, const std::string& projection_key) {
  TextEncoderConfig text;
  text.layout = TextEncoderLayout::HuggingFaceClip;
  const auto& token = shapeOf(shapes, prefix + "embeddings.token_embedding.weight", 2);  // [vocab, width]
  text.vocab_size = static_cast<int>(token[0]);
  text.width = static_cast<int>(token[1]);
  text.max_positions = static_cast<int>(shapeOf(shapes, prefix + "embeddings.position_embedding.weight", 2)[0]);
  text.layers = countIndexed(shapes, prefix + "encoder.layers.");
  text.mlp_width = static_cast<int>(shapeOf(shapes, prefix + "encoder.layers.0.mlp.fc1.weight", 2)[0]);
  text.heads = std::max(1, text.width / 64);
  text.activation = TextActivation::QuickGelu;
  text.pad_token = text.vocab_size - 1;  // HF CLIP pads with end-of-text, the last id (49407 in OpenAI's vocabulary)
  if (const auto it = shapes.find(projection_key); it != shapes.end() && it->second.size() == 2) {
    text.projection_dim = static_cast<int>(it->second[0]);  // HF text_projection.weight: [projection, width]
  }
  return text;
}

// prefix ends in "model.".
TextEncoderConfig detectOpenClip(const ShapeMap& shapes, const std::string& prefix) {
  TextEncoderConfig text;
  text.layout = TextEncoderLayout::OpenClip;
  const auto& token = shapeOf(shapes, prefix + "token_embedding.weight", 2);  // [vocab, width]
  text.vocab_size = static_cast<int>(token[0]);
  text.width = static_cast<int>(token[1]);
  text.max_positions = static_cast<int>(shapeOf(shapes, prefix + "positional_embedding", 2)[0]);
  text.layers = countIndexed(shapes, prefix + "transformer.resblocks.");
  text.mlp_width = static_cast<int>(shapeOf(shapes, prefix + "transformer.resblocks.0.mlp.c_fc.weight", 2)[0]);
  text.heads = std::max(1, text.width / 64);
  text.activation = TextActivation::Gelu;
  text.pad_token = 0;
  if (const auto it = shapes.find(prefix + "text_projection"); it != shapes.end() && it->second.size() == 2) {
    text.projection_dim = static_cast<int>(it->second[1]);  // [width, projection]
  }
  return text;
}

}  // namespace

ModelFamily familyFromUNet(const UNetConfig& unet) {
  if (unet.adm_in_channels == 2816 && unet.context_dim == 2048) return ModelFamily::SDXL;
  if (unet.adm_in_channels == 0 && unet.context_dim == 1024 && unet.use_linear_in_transformer) return ModelFamily::SD2;
  if (unet.adm_in_channels == 0 && unet.context_dim == 768 && !unet.use_linear_in_transformer) return ModelFamily::SD1;
  return ModelFamily::Custom;
}

ModelConfig detectConfig(const ShapeMap& shapes) {
  const bool has_unet = hasPrefix(shapes, kUNetPrefix);
  const bool has_vae = hasPrefix(shapes, kVaePrefix);
  if (!has_unet && !has_vae && !hasPrefix(shapes, "cond_stage_model.") && !hasPrefix(shapes, "conditioner.embedders.")) {
    fail(ErrorCode::ConfigError, "no model found: no tensor starts with model.diffusion_model., first_stage_model., "
                                 "cond_stage_model. or conditioner.embedders.");
  }
  ModelConfig config;
  if (has_unet) config.unet = detectUNet(shapes, kUNetPrefix);
  if (has_vae) config.vae = detectVae(shapes, kVaePrefix);

  const std::string sd1_text = "cond_stage_model.transformer.text_model.";
  const std::string sd2_text = "cond_stage_model.model.";
  if (hasPrefix(shapes, "conditioner.embedders.")) {
    // sgm conditioner: every numbered embedder that is a text tower, in order (base: CLIP-L then bigG; refiner: bigG).
    config.family = ModelFamily::SDXL;
    for (int index = 0; hasPrefix(shapes, "conditioner.embedders." + std::to_string(index) + "."); ++index) {
      const std::string embedder = "conditioner.embedders." + std::to_string(index) + ".";
      if (hasPrefix(shapes, embedder + "transformer.text_model.")) {
        config.text_encoders.push_back(detectHfClip(shapes, embedder + "transformer.text_model.", embedder + "transformer.text_projection.weight"));
      } else if (hasPrefix(shapes, embedder + "model.")) {
        config.text_encoders.push_back(detectOpenClip(shapes, embedder + "model."));
      } else {
        fail(ErrorCode::ConfigError, "config detection: embedder \"" + embedder + "\" is neither a transformers CLIP (" +
                                         embedder + "transformer.text_model.*) nor an open_clip (" + embedder + "model.*) text tower");
      }
      config.text_encoders.back().output_layer = TextOutputLayer::Penultimate;
    }
  } else if (hasPrefix(shapes, sd2_text)) {
    config.family = ModelFamily::SD2;
    config.text_encoders.push_back(detectOpenClip(shapes, sd2_text));
    // diffusers' SD2 text encoders drop ViT-H's last block (23 of 24): their last layer is the penultimate one.
    config.text_encoders.back().output_layer =
        config.text_encoders.back().layers == 23 ? TextOutputLayer::Last : TextOutputLayer::PenultimateNormed;
  } else if (hasPrefix(shapes, sd1_text)) {
    config.family = ModelFamily::SD1;
    config.text_encoders.push_back(detectHfClip(shapes, sd1_text, "cond_stage_model.transformer.text_projection.weight"));
    config.text_encoders.back().output_layer = TextOutputLayer::Last;
  } else {
    config.family = has_unet ? familyFromUNet(config.unet) : ModelFamily::Custom;  // a UNet-only (or VAE-only) file
  }
  if (config.family == ModelFamily::SDXL) config.vae.scale_factor = 0.13025;
  if (shapes.count("v_pred")) config.prediction = Prediction::V;
  return config;
}

UNetConfig canonicalUNet(UNetConfig unet) {
  const size_t levels = unet.channel_mult.size();
  if (unet.transformer_depth_middle < 0) {
    unet.transformer_depth_middle = unet.transformer_depth.empty() ? 1 : unet.transformer_depth.back();
  }
  std::sort(unet.attention_resolutions.begin(), unet.attention_resolutions.end());
  unet.attention_resolutions.erase(std::unique(unet.attention_resolutions.begin(), unet.attention_resolutions.end()),
                                   unet.attention_resolutions.end());
  std::reverse(unet.attention_resolutions.begin(), unet.attention_resolutions.end());
  for (size_t level = 0; level < levels && level < unet.transformer_depth.size(); ++level) {
    const int rate = 1 << level;
    const bool attention = std::find(unet.attention_resolutions.begin(), unet.attention_resolutions.end(), rate) !=
                           unet.attention_resolutions.end();
    if (!attention) unet.transformer_depth[level] = 0;
  }
  if (unet.num_head_channels > 0) unet.num_heads = -1;
  return unet;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON text.

namespace {

const char* layoutName(TextEncoderLayout layout) {
  return layout == TextEncoderLayout::OpenClip ? "open_clip" : "hf_clip";
}
const char* activationName(TextActivation activation) {
  return activation == TextActivation::Gelu ? "gelu" : "quick_gelu";
}
const char* outputLayerName(TextOutputLayer layer) {
  switch (layer) {
    case TextOutputLayer::Last: return "last";
    case TextOutputLayer::PenultimateNormed: return "penultimate_normed";
    case TextOutputLayer::Penultimate: return "penultimate";
  }
  return "unknown";
}

nlohmann::ordered_json unetJson(const UNetConfig& unet) {
  return {{"in_channels", unet.in_channels},
          {"out_channels", unet.out_channels},
          {"model_channels", unet.model_channels},
          {"channel_mult", unet.channel_mult},
          {"num_res_blocks", unet.num_res_blocks},
          {"attention_resolutions", unet.attention_resolutions},
          {"num_heads", unet.num_heads},
          {"num_head_channels", unet.num_head_channels},
          {"transformer_depth", unet.transformer_depth},
          {"transformer_depth_middle", unet.transformer_depth_middle},
          {"context_dim", unet.context_dim},
          {"use_linear_in_transformer", unet.use_linear_in_transformer},
          {"adm_in_channels", unet.adm_in_channels},
          {"norm_num_groups", unet.norm_groups}};
}

nlohmann::ordered_json vaeJson(const VaeConfig& vae) {
  return {{"embed_dim", vae.embed_dim},     {"z_channels", vae.z_channels}, {"resolution", vae.resolution},
          {"in_channels", vae.in_channels}, {"out_ch", vae.out_ch},         {"ch", vae.ch},
          {"ch_mult", vae.ch_mult},         {"num_res_blocks", vae.num_res_blocks},
          {"attn_resolutions", vae.attn_resolutions}, {"double_z", vae.double_z},
          {"scale_factor", vae.scale_factor},       {"norm_num_groups", vae.norm_groups}};
}

nlohmann::ordered_json textJson(const TextEncoderConfig& text) {
  return {{"layout", layoutName(text.layout)},
          {"vocab_size", text.vocab_size},
          {"max_positions", text.max_positions},
          {"width", text.width},
          {"layers", text.layers},
          {"heads", text.heads},
          {"mlp_width", text.mlp_width},
          {"activation", activationName(text.activation)},
          {"layer_norm_eps", text.layer_norm_eps},
          {"projection_dim", text.projection_dim},
          {"output_layer", outputLayerName(text.output_layer)},
          {"pad_token", text.pad_token}};
}

}  // namespace

std::string unetConfigToJson(const UNetConfig& unet, int indent) { return unetJson(unet).dump(indent); }
std::string vaeConfigToJson(const VaeConfig& vae, int indent) { return vaeJson(vae).dump(indent); }
std::string textEncoderConfigToJson(const TextEncoderConfig& text, int indent) { return textJson(text).dump(indent); }

std::string configToJson(const ModelConfig& config, int indent) {
  nlohmann::ordered_json json;
  json["family"] = familyName(config.family);
  json["prediction"] = predictionName(config.prediction);
  json["unet"] = unetJson(config.unet);
  json["vae"] = vaeJson(config.vae);
  json["text_encoders"] = nlohmann::ordered_json::array();
  for (const auto& text : config.text_encoders) json["text_encoders"].push_back(textJson(text));
  return json.dump(indent);
}

}  // namespace gesso
