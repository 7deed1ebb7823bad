// The config of an opened checkpoint: shapes first, then the files that say more (diffusers config.json files, an
// LDM/sgm YAML, text-encoder JSON configs), each laid over what came before.
#include "gesso/error.h"
#include "gesso/io/checkpoint.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/text_config.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gesso {

namespace {

namespace fs = std::filesystem;

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::FileNotFound, path + ": cannot open the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Lays a text encoder's own config over encoder `index` (or the first of the same layout when index < 0), keeping
// what the family decides and the file does not say: which layer conditions the UNet, and the padding token.
void applyTextEncoderConfig(TextEncoderConfig text, int index, ModelConfig& config, const std::string& source) {
  auto& encoders = config.text_encoders;
  if (index < 0) {
    for (size_t i = 0; i < encoders.size(); ++i) {
      if (encoders[i].layout == text.layout) {
        index = static_cast<int>(i);
        break;
      }
    }
  }
  if (index >= 0 && index < static_cast<int>(encoders.size())) {
    text.output_layer = encoders[static_cast<size_t>(index)].output_layer;
    text.pad_token = encoders[static_cast<size_t>(index)].pad_token;
    encoders[static_cast<size_t>(index)] = text;
    return;
  }
  if (index >= 0) {
    fail(ErrorCode::ConfigError, source + ": describes text encoder " + std::to_string(index) + " but the model has " +
                                     std::to_string(encoders.size()));
  }
  text.pad_token = text.layout == TextEncoderLayout::OpenClip ? 0 : text.vocab_size - 1;  // HF: end-of-text, the last id
  encoders.push_back(text);
}

// A JSON config: HF CLIPTextConfig, open_clip model config, or a diffusers UNet / VAE config.json.
void applyJsonConfig(const std::string& path, int text_index, ModelConfig& config) {
  const std::string text = readText(path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::ConfigError, path + ": not valid JSON (" + error.what() + ")");
  }
  if (!json.is_object()) fail(ErrorCode::ConfigError, path + ": expected a JSON object");
  if (json.contains("text_cfg")) {
    applyTextEncoderConfig(models::textConfigFromOpenClipJson(text), text_index, config, path);
  } else if (json.contains("hidden_size") && json.contains("num_hidden_layers")) {
    applyTextEncoderConfig(models::textConfigFromHfJson(text), text_index, config, path);
  } else if (json.contains("latent_channels")) {
    ConfigOverrides overrides;
    overrides.source = path;
    overrides.vae = parseDiffusersVaeConfig(text, path);
    overrides.scale_factor = overrides.vae->scale_factor;
    overrides.applyTo(config);
  } else if (json.contains("cross_attention_dim") || json.contains("block_out_channels")) {
    ConfigOverrides overrides;
    overrides.source = path;
    overrides.unet = parseDiffusersUNetConfig(text, path);
    overrides.applyTo(config);
  } else {
    fail(ErrorCode::ConfigError, path + ": not a config Gesso knows (expected an HF CLIPTextConfig, an open_clip model "
                                        "config with text_cfg, or a diffusers UNet/VAE config.json)");
  }
}

}  // namespace

void applyConfigFile(const std::string& path, ModelConfig& config, int text_encoder_index) {
  if (endsWith(path, ".json")) {
    applyJsonConfig(path, text_encoder_index, config);
  } else {
    loadYamlConfig(path).applyTo(config);
  }
}

ResolvedConfig resolveConfig(const io::Checkpoint& checkpoint, const std::string& config_path) {
  ResolvedConfig resolved;
  resolved.config = detectConfig(checkpoint.shapes());
  resolved.source = "detected from tensor shapes";
  const auto& diffusers = checkpoint.diffusersConfigs();
  if (auto unet = diffusers.find("unet"); unet != diffusers.end()) {
    ConfigOverrides overrides;
    overrides.source = checkpoint.path() + "/unet/config.json";
    overrides.unet = parseDiffusersUNetConfig(unet->second, overrides.source);
    if (auto vae = diffusers.find("vae"); vae != diffusers.end()) {
      overrides.vae = parseDiffusersVaeConfig(vae->second, checkpoint.path() + "/vae/config.json");
      overrides.scale_factor = overrides.vae->scale_factor;
    }
    overrides.applyTo(resolved.config);
    resolved.source = "diffusers config.json files";
  }
  if (auto scheduler = diffusers.find("scheduler"); scheduler != diffusers.end()) {
    const std::string source = checkpoint.path() + "/scheduler/scheduler_config.json";
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(scheduler->second);
    } catch (const nlohmann::json::exception& error) {
      fail(ErrorCode::ConfigError, source + ": not valid JSON: " + error.what());
    }
    const auto type = json.find("prediction_type");
    if (type != json.end() && !type->is_null()) {
      const std::string value = type->is_string() ? type->get<std::string>() : type->dump();
      if (value == "v_prediction") {
        resolved.config.prediction = Prediction::V;
      } else if (value == "epsilon") {
        resolved.config.prediction = Prediction::Epsilon;
      } else {
        fail(ErrorCode::ConfigError, source + ": field \"prediction_type\": \"" + value + "\" is not supported (epsilon or v_prediction)");
      }
    }
  }
  if (!config_path.empty()) {
    applyConfigFile(config_path, resolved.config);
    resolved.source = config_path;
    return resolved;
  }
  if (checkpoint.layout() != io::CheckpointLayout::SingleFile) return resolved;
  // Files beside a single file, named after it: NAME.yaml, NAME.config.json / NAME.open_clip.json (its text
  // encoder), NAME.embedderN.config.json / NAME.embedderN.open_clip.json (text encoder N of several).
  const fs::path stem = fs::path(checkpoint.path()).replace_extension();
  std::vector<std::string> used;
  auto applyBeside = [&](const std::string& suffix, int text_index) {
    const std::string candidate = stem.string() + suffix;
    if (!fs::is_regular_file(candidate)) return;
    if (endsWith(suffix, ".yaml") && !yamlSupported()) return;
    applyConfigFile(candidate, resolved.config, text_index);
    used.push_back(candidate);
  };
  applyBeside(".yaml", -1);
  applyBeside(".config.json", -1);
  applyBeside(".open_clip.json", -1);
  for (size_t i = 0; i < resolved.config.text_encoders.size(); ++i) {
    applyBeside(".embedder" + std::to_string(i) + ".config.json", static_cast<int>(i));
    applyBeside(".embedder" + std::to_string(i) + ".open_clip.json", static_cast<int>(i));
  }
  if (!used.empty()) {
    resolved.source.clear();
    for (const auto& file : used) resolved.source += (resolved.source.empty() ? "" : " + ") + file;
  }
  return resolved;
}

}  // namespace gesso
