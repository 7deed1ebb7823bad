// The config of an opened checkpoint: shapes first, then the files that say more (diffusers config.json and
// scheduler_config.json, a YAML).
#include "gesso/error.h"
#include "gesso/io/checkpoint.h"
#include "gesso/models/model_config_files.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace gesso {

ResolvedConfig resolveConfig(const io::Checkpoint& checkpoint, const std::string& yaml_path) {
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
  std::string yaml = yaml_path;
  if (yaml.empty() && checkpoint.layout() == io::CheckpointLayout::SingleFile && yamlSupported()) {
    const std::filesystem::path beside = std::filesystem::path(checkpoint.path()).replace_extension(".yaml");
    if (std::filesystem::is_regular_file(beside)) yaml = beside.string();
  }
  if (!yaml.empty()) {
    loadYamlConfig(yaml).applyTo(resolved.config);
    resolved.source = yaml;
  }
  return resolved;
}

}  // namespace gesso
