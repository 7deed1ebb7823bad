// Model configs from files: LDM/sgm inference YAMLs (yaml-cpp, GESSO_WITH_YAML) and diffusers config.json files.
// Each parser fills only what its file says; ConfigOverrides::applyTo lays that over a detected or preset config.
#pragma once

#include "gesso/models/model_config.h"

#include <optional>
#include <string>
#include <vector>

namespace gesso {

namespace io {
class Checkpoint;
}

struct ConfigOverrides {
  std::string source;                     // the file (or name) the values came from
  std::optional<UNetConfig> unet;
  std::optional<VaeConfig> vae;           // its scale_factor is the default unless scale_factor is set
  std::optional<double> scale_factor;
  std::optional<Prediction> prediction;
  // A text encoder described in the YAML (cond_stage_config.params.text_config, HF CLIPTextConfig fields): models
  // with their own vocabulary, such as the bundled one. Replaces the detected or preset text encoders.
  std::optional<std::vector<TextEncoderConfig>> text_encoders;

  // Replaces what this holds; a Custom family becomes the one the new UNet belongs to.
  void applyTo(ModelConfig& config) const;
};

// An LDM (`model.params.unet_config`) or sgm (`model.params.network_config`) YAML, or a YAML whose root is the UNet
// constructor params (has `model_channels`) or the first-stage params (has `ddconfig`). `source_name` names the file
// in errors. Throws ConfigError naming the file and field; without yaml-cpp, ConfigError saying so.
ConfigOverrides parseYamlConfig(const std::string& text, const std::string& source_name);
bool yamlSupported();  // false in builds without yaml-cpp
ConfigOverrides loadYamlConfig(const std::string& path);

// diffusers UNet2DConditionModel / AutoencoderKL config.json text. Throws ConfigError naming the file and field.
UNetConfig parseDiffusersUNetConfig(const std::string& json_text, const std::string& source_name);
VaeConfig parseDiffusersVaeConfig(const std::string& json_text, const std::string& source_name);

struct ResolvedConfig {
  ModelConfig config;
  std::string source;  // "detected from tensor shapes", "diffusers config.json files" or the config files read
};

// Lays one config file over `config`: an LDM/sgm YAML, or a JSON file: a HuggingFace CLIPTextConfig or an open_clip
// model config (a text encoder: encoder `text_encoder_index`, or the first of the same layout when -1), or a diffusers
// UNet / VAE config.json. Throws GessoError naming the file and field.
void applyConfigFile(const std::string& path, ModelConfig& config, int text_encoder_index = -1);

// A checkpoint's config: detected from its shapes, then the diffusers config.json files and the
// scheduler's prediction_type (for a folder), then
// `config_path` if given (any form applyConfigFile reads), else the files beside a single file named after it:
// NAME.yaml, NAME.config.json or NAME.open_clip.json, NAME.embedderN.config.json / .open_clip.json. Throws GessoError.
ResolvedConfig resolveConfig(const io::Checkpoint& checkpoint, const std::string& config_path = {});

}  // namespace gesso
