// gesso-cli info MODEL [--config FILE] [--vae FILE] [--json]: what a checkpoint (file or diffusers folder) holds —
// family, prediction type, each component's tensors, parameters and dtypes, ignored keys, and the resolved config.
// Keys that belong to no component are an error (non-zero exit). Nothing is built: only tensor headers are read.
#include "commands.h"

#include "gesso/io/checkpoint.h"
#include "gesso/io/state_dict.h"
#include "gesso/models/model_config.h"
#include "gesso/models/model_config_files.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <set>

namespace gesso::cli {

namespace {

struct ComponentSummary {
  io::ComponentPrefix component;
  size_t tensors = 0;
  int64_t parameters = 0;
  std::set<std::string> dtypes;
};

struct Info {
  std::string path;
  io::CheckpointLayout layout = io::CheckpointLayout::SingleFile;
  ModelConfig config;
  std::string config_source;
  std::vector<ComponentSummary> components;
  io::KeyAccount account;
};

std::string withThousands(int64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

Info gatherInfo(const std::string& path, const std::string& config_path, const std::string& vae_path) {
  io::Checkpoint checkpoint = io::Checkpoint::open(path);
  if (!vae_path.empty()) checkpoint.replaceVae(vae_path);
  Info info;
  info.path = path;
  info.layout = checkpoint.layout();
  ResolvedConfig resolved = resolveConfig(checkpoint, config_path);
  info.config = resolved.config;
  info.config_source = resolved.source;

  const auto prefixes = io::componentPrefixes(info.config);
  info.account = io::accountKeys(checkpoint, prefixes);
  for (size_t i = 0; i < prefixes.size(); ++i) {
    ComponentSummary summary;
    summary.component = prefixes[i];
    for (const auto& key : info.account.consumed[i].second) {
      const io::TensorSource* source = checkpoint.find(key);
      ++summary.tensors;
      if (!io::ignorableReason(key)) summary.parameters += source->numel();
      summary.dtypes.insert(io::dtypeName(source->dtype));
    }
    info.components.push_back(summary);
  }
  return info;
}

// A checkpoint that has a UNet and something else is a full model: every component of its family must be there.
std::vector<std::string> missingComponents(const Info& info) {
  size_t present = 0;
  bool has_unet = false;
  for (const auto& summary : info.components) {
    if (summary.tensors > 0) ++present;
    if (summary.component.name == "unet" && summary.tensors > 0) has_unet = true;
  }
  std::vector<std::string> missing;
  if (!has_unet || present < 2) return missing;
  for (const auto& summary : info.components) {
    if (summary.tensors == 0) missing.push_back(summary.component.name + " (" + summary.component.prefix + "*)");
  }
  return missing;
}

void printText(const Info& info) {
  std::cout << info.path << " (" << (info.layout == io::CheckpointLayout::Diffusers ? "diffusers folder" : "single file")
            << ")\n";
  std::cout << "family:     " << familyName(info.config.family) << '\n';
  std::cout << "prediction: " << predictionName(info.config.prediction) << '\n';
  std::cout << "config:     " << info.config_source << '\n';
  std::cout << "components:\n";
  for (const auto& summary : info.components) {
    std::cout << "  " << summary.component.name << std::string(16 - std::min<size_t>(15, summary.component.name.size()), ' ');
    if (summary.tensors == 0) {
      std::cout << "absent\n";
      continue;
    }
    std::string dtypes;
    for (const auto& dtype : summary.dtypes) dtypes += (dtypes.empty() ? "" : "+") + dtype;
    std::cout << summary.tensors << " tensors, " << withThousands(summary.parameters) << " parameters, " << dtypes << "  ("
              << summary.component.prefix << "*)\n";
  }
  if (!info.account.ignored.empty()) {
    std::cout << "ignored keys (" << info.account.ignored.size() << "):\n";
    for (const auto& [key, reason] : info.account.ignored) std::cout << "  " << key << "  -- " << reason << '\n';
  }
  // Only the parts this file holds (the others would be defaults).
  auto present = [&](const std::string& name) {
    for (const auto& summary : info.components) {
      if (summary.component.name == name) return summary.tensors > 0;
    }
    return false;
  };
  std::cout << "resolved config:\n";
  if (present("unet")) std::cout << "  unet: " << unetConfigToJson(info.config.unet, -1) << '\n';
  if (present("vae")) std::cout << "  vae:  " << vaeConfigToJson(info.config.vae, -1) << '\n';
  for (size_t i = 0; i < info.config.text_encoders.size(); ++i) {
    std::cout << "  text_encoder" << (i ? "_" + std::to_string(i + 1) : std::string()) << ": "
              << textEncoderConfigToJson(info.config.text_encoders[i], -1) << '\n';
  }
}

void printJson(const Info& info) {
  nlohmann::ordered_json json;
  json["path"] = info.path;
  json["layout"] = info.layout == io::CheckpointLayout::Diffusers ? "diffusers" : "single_file";
  json["family"] = familyName(info.config.family);
  json["prediction"] = predictionName(info.config.prediction);
  json["config_source"] = info.config_source;
  json["components"] = nlohmann::ordered_json::array();
  for (const auto& summary : info.components) {
    json["components"].push_back({{"name", summary.component.name},
                                  {"prefix", summary.component.prefix},
                                  {"present", summary.tensors > 0},
                                  {"tensors", summary.tensors},
                                  {"parameters", summary.parameters},
                                  {"dtypes", summary.dtypes}});
  }
  json["ignored"] = nlohmann::ordered_json::array();
  for (const auto& [key, reason] : info.account.ignored) json["ignored"].push_back({{"key", key}, {"reason", reason}});
  json["unexpected"] = info.account.unclaimed;
  json["missing_components"] = missingComponents(info);
  json["config"] = nlohmann::ordered_json::parse(configToJson(info.config));
  std::cout << json.dump(2) << '\n';
}

}  // namespace

void addInfoCommand(CLI::App& app, CommandContext& context) {
  auto* command = app.add_subcommand("info", "Describe a model checkpoint: family, components, keys and config");
  auto path = std::make_shared<std::string>();
  auto config_path = std::make_shared<std::string>();
  auto vae_path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  command->add_option("MODEL", *path, "A .safetensors checkpoint or a diffusers folder")->required();
  command->add_option("--config", *config_path,
                      "A config: LDM/sgm YAML, diffusers config.json, HF CLIPTextConfig or open_clip JSON (default: "
                      "files beside MODEL named after it, e.g. NAME.yaml)");
  command->add_option("--vae", *vae_path, "A standalone VAE (.safetensors or diffusers vae folder) replacing MODEL's");
  command->add_flag("--json", *as_json, "Print JSON");
  command->callback([&context, path, config_path, vae_path, as_json] {
    auto result = captureErrors([&] {
      const Info info = gatherInfo(*path, *config_path, *vae_path);
      if (*as_json) {
        printJson(info);
      } else {
        printText(info);
      }
      const std::vector<std::string> missing = missingComponents(info);
      if (!info.account.unclaimed.empty()) {
        fail(ErrorCode::UnexpectedKey, *path + " has " + std::to_string(info.account.unclaimed.size()) +
                                           " tensor(s) that belong to no component and are not ignorable: " +
                                           io::listNames(info.account.unclaimed));
      }
      if (!missing.empty()) {
        fail(ErrorCode::MissingKey, *path + " lacks the " + familyName(info.config.family) + " component(s) " + io::listNames(missing));
      }
    });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
