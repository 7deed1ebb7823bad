// Checkpoint conversion (see convert.h).
#include "gesso/io/convert.h"

#include "gesso/error.h"
#include "gesso/io/checkpoint.h"
#include "gesso/io/ckpt_reader.h"
#include "gesso/io/diffusers_names.h"
#include "gesso/io/ldm_writer.h"
#include "gesso/io/safetensors.h"
#include "gesso/io/state_dict.h"
#include "gesso/models/model_config.h"
#include "gesso/models/model_config_files.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace gesso::io {

namespace {

namespace fs = std::filesystem;

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

struct Source {
  io::NamedTensors tensors;
  io::Checkpoint checkpoint;  // the same tensors, for config resolution
  bool pickle = false;        // read from a .ckpt/.pt file
};

// The input's tensors, with `vae` (when given) in place of its first_stage_model.* ones.
Source loadSource(const std::string& path, const std::string& vae) {
  Source source;
  if (!fs::is_directory(path) && io::isTorchCheckpointFile(path)) {
    source.tensors = io::readTorchCheckpoint(path);
    source.pickle = true;
    for (const auto& [name, tensor] : source.tensors) {
      io::TensorSource entry;
      entry.shape = tensor.sizes().vec();
      entry.origin = path + ": " + name;
      entry.read = [tensor = tensor] { return tensor; };
      source.checkpoint.insert(name, std::move(entry));
    }
    if (vae.empty()) return source;
    source.tensors.clear();
  } else {
    source.checkpoint = io::Checkpoint::open(path);
  }
  if (!vae.empty()) source.checkpoint.replaceVae(vae);
  for (const auto& [name, tensor] : source.checkpoint.tensors()) source.tensors.emplace_back(name, tensor.load());
  return source;
}

at::ScalarType parseDtype(const std::string& name) {
  if (name == "fp16") return at::kHalf;
  if (name == "bf16") return at::kBFloat16;
  if (name == "fp32") return at::kFloat;
  fail(ErrorCode::InvalidArgument, "--dtype \"" + name + "\" (expected fp16, bf16 or fp32)");
}

// The config for a diffusers export: shapes, then the source's config files (diffusers configs, NAME.yaml and
// friends beside a single file) or --config. A .ckpt takes NAME.yaml beside it unless --config is given.
ModelConfig modelConfig(const Source& source, const ConvertOptions& options) {
  if (!source.pickle) return resolveConfig(source.checkpoint, options.config).config;
  ModelConfig config = detectConfig(source.checkpoint.shapes());
  std::string config_path = options.config;
  const fs::path beside = fs::path(options.input).replace_extension(".yaml");
  if (config_path.empty() && fs::is_regular_file(beside) && yamlSupported()) config_path = beside.string();
  if (!config_path.empty()) applyConfigFile(config_path, config);
  return config;
}

// --- diffusers export -------------------------------------------------------------------------------------------

struct Component {
  std::string folder;       // "unet", "vae", "text_encoder", "text_encoder_2"
  std::string file;         // weights file name inside it
  io::NamedTensors tensors;  // diffusers names
};

io::NamedTensors mapComponent(const io::NamedTensors& all, const std::string& prefix,
                              std::vector<io::NameMapping> (*table)(const std::vector<std::string>&)) {
  std::map<std::string, at::Tensor> by_name;
  std::vector<std::string> names;
  for (const auto& [name, tensor] : all) {
    if (!startsWith(name, prefix)) continue;
    by_name[name.substr(prefix.size())] = tensor;
    names.push_back(name.substr(prefix.size()));
  }
  io::NamedTensors mapped;
  if (names.empty()) return mapped;
  if (!table) {
    for (const auto& name : names) mapped.emplace_back(name, by_name.at(name));
    return mapped;
  }
  for (const auto& mapping : table(names)) {
    std::vector<at::Tensor> sources;
    for (const auto& source : mapping.sources) sources.push_back(by_name.at(source));
    mapped.emplace_back(mapping.target, io::applyMapping(mapping, sources).contiguous());
  }
  return mapped;
}

nlohmann::json unetDiffusersConfig(const UNetConfig& unet) {
  if (unet.channel_mult.size() != unet.num_res_blocks.size()) fail(ErrorCode::ConfigError, "UNet config: num_res_blocks needs one entry per level");
  const size_t levels = unet.channel_mult.size();
  std::vector<int> block_out, layers, depth, heads;
  std::vector<std::string> down, up;
  for (size_t level = 0; level < levels; ++level) {
    const int width = unet.model_channels * unet.channel_mult[level];
    block_out.push_back(width);
    layers.push_back(unet.num_res_blocks[level]);
    const bool attention = std::count(unet.attention_resolutions.begin(), unet.attention_resolutions.end(), 1 << level) > 0;
    down.push_back(attention ? "CrossAttnDownBlock2D" : "DownBlock2D");
    up.insert(up.begin(), attention ? "CrossAttnUpBlock2D" : "UpBlock2D");
    depth.push_back(level < unet.transformer_depth.size() ? std::max(1, unet.transformer_depth[level]) : 1);
    if (unet.num_head_channels > 0 && (width % unet.num_head_channels != 0 || width < unet.num_head_channels)) {
      // diffusers states head counts per level; a head width that does not divide a level cannot be written.
      fail(ErrorCode::ConfigError, "num_head_channels " + std::to_string(unet.num_head_channels) + " does not divide the width " +
                                       std::to_string(width) + " of UNet level " + std::to_string(level) +
                                       " (pass the model's config with --config)");
    }
    heads.push_back(unet.num_head_channels > 0 ? width / unet.num_head_channels : unet.num_heads);
  }
  nlohmann::json json = {{"_class_name", "UNet2DConditionModel"},
                         {"in_channels", unet.in_channels},
                         {"out_channels", unet.out_channels},
                         {"block_out_channels", block_out},
                         {"layers_per_block", layers},
                         {"down_block_types", down},
                         {"up_block_types", up},
                         {"transformer_layers_per_block", depth},
                         {"cross_attention_dim", unet.context_dim},
                         {"use_linear_projection", unet.use_linear_in_transformer},
                         {"norm_num_groups", unet.norm_groups}};
  if (unet.num_head_channels > 0) {
    json["attention_head_dim"] = heads;
  } else {
    json["attention_head_dim"] = unet.num_heads;
  }
  if (unet.adm_in_channels > 0) {
    json["addition_embed_type"] = "text_time";
    json["projection_class_embeddings_input_dim"] = unet.adm_in_channels;
  }
  return json;
}

nlohmann::json vaeDiffusersConfig(const VaeConfig& vae) {
  std::vector<int> block_out;
  for (int mult : vae.ch_mult) block_out.push_back(vae.ch * mult);
  return {{"_class_name", "AutoencoderKL"},     {"in_channels", vae.in_channels},   {"out_channels", vae.out_ch},
          {"block_out_channels", block_out},     {"layers_per_block", vae.num_res_blocks},
          {"latent_channels", vae.z_channels},   {"sample_size", vae.resolution},    {"scaling_factor", vae.scale_factor},
          {"norm_num_groups", vae.norm_groups}};
}

nlohmann::json textDiffusersConfig(const TextEncoderConfig& text) {
  nlohmann::json json = {{"_class_name", text.projection_dim > 0 ? "CLIPTextModelWithProjection" : "CLIPTextModel"},
                         {"vocab_size", text.vocab_size},
                         {"max_position_embeddings", text.max_positions},
                         {"hidden_size", text.width},
                         {"num_hidden_layers", text.layers},
                         {"num_attention_heads", text.heads},
                         {"intermediate_size", text.mlp_width},
                         {"hidden_act", text.activation == TextActivation::Gelu ? "gelu" : "quick_gelu"},
                         {"layer_norm_eps", text.layer_norm_eps}};
  if (text.projection_dim > 0) json["projection_dim"] = text.projection_dim;
  return json;
}

void writeText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) fail(ErrorCode::IoError, "cannot write " + path.string());
}

void writeDiffusers(const io::NamedTensors& tensors, const ModelConfig& config, const std::string& out) {
  if (fs::exists(out)) fail(ErrorCode::InvalidArgument, out + " already exists (a diffusers export needs a new folder)");

  // Which prefix goes where: SD1/SD2 (one text encoder) and SDXL (two embedders).
  const bool sdxl = std::any_of(tensors.begin(), tensors.end(), [](const auto& t) { return startsWith(t.first, "conditioner.embedders."); });
  std::vector<Component> components;
  std::set<std::string> consumed_prefixes;
  auto add = [&](const std::string& folder, const std::string& file, const std::string& prefix,
                 std::vector<io::NameMapping> (*table)(const std::vector<std::string>&)) {
    io::NamedTensors mapped = mapComponent(tensors, prefix, table);
    consumed_prefixes.insert(prefix);
    if (!mapped.empty()) components.push_back({folder, file, std::move(mapped)});
  };
  add("unet", "diffusion_pytorch_model.safetensors", "model.diffusion_model.", io::ldmUNetToDiffusers);
  add("vae", "diffusion_pytorch_model.safetensors", "first_stage_model.", io::ldmVaeToDiffusers);
  if (sdxl) {
    add("text_encoder", "model.safetensors", "conditioner.embedders.0.transformer.", nullptr);
    add("text_encoder", "model.safetensors", "conditioner.embedders.0.model.", io::openClipToDiffusersClip);
    add("text_encoder_2", "model.safetensors", "conditioner.embedders.1.model.", io::openClipToDiffusersClip);
  } else {
    add("text_encoder", "model.safetensors", "cond_stage_model.transformer.", nullptr);
    add("text_encoder", "model.safetensors", "cond_stage_model.model.", io::openClipToDiffusersClip);
  }
  std::vector<std::string> dropped;
  for (const auto& [name, tensor] : tensors) {
    const bool used = std::any_of(consumed_prefixes.begin(), consumed_prefixes.end(), [&](const std::string& p) { return startsWith(name, p); });
    if (used) continue;
    if (!io::ignorableReason(name)) fail(ErrorCode::UnexpectedKey, "\"" + name + "\" has no place in a diffusers folder");
    dropped.push_back(name);
  }
  if (!dropped.empty()) spdlog::info("not exported (ignorable): {}", io::listNames(dropped));
  if (components.empty() || components.front().folder != "unet") fail(ErrorCode::MissingKey, "a diffusers export needs a UNet (model.diffusion_model.*)");

  const fs::path final_path(out);
  const fs::path staging = final_path.parent_path() / (final_path.filename().string() + ".partial");
  fs::remove_all(staging);
  fs::create_directories(staging);
  nlohmann::json model_index = {{"_class_name", sdxl ? "StableDiffusionXLPipeline" : "StableDiffusionPipeline"},
                                {"_diffusers_version", "0.25.0"}};
  size_t text_index = 0;
  for (const auto& component : components) {
    fs::create_directories(staging / component.folder);
    io::writeSafetensors((staging / component.folder / component.file).string(), component.tensors, {{"format", "pt"}});
    nlohmann::json component_config;
    if (component.folder == "unet") {
      component_config = unetDiffusersConfig(config.unet);
      model_index["unet"] = {"diffusers", "UNet2DConditionModel"};
    } else if (component.folder == "vae") {
      component_config = vaeDiffusersConfig(config.vae);
      model_index["vae"] = {"diffusers", "AutoencoderKL"};
    } else {
      if (text_index >= config.text_encoders.size()) fail(ErrorCode::Internal, "text encoder config missing for " + component.folder);
      component_config = textDiffusersConfig(config.text_encoders[text_index++]);
      model_index[component.folder] = {"transformers", component_config["_class_name"]};
    }
    writeText(staging / component.folder / "config.json", component_config.dump(2) + "\n");
  }
  fs::create_directories(staging / "scheduler");
  const bool v_prediction = config.prediction == Prediction::V;
  writeText(staging / "scheduler" / "scheduler_config.json",
            nlohmann::json({{"_class_name", "EulerDiscreteScheduler"},
                            {"prediction_type", v_prediction ? "v_prediction" : "epsilon"}}).dump(2) + "\n");
  model_index["scheduler"] = {"diffusers", "EulerDiscreteScheduler"};
  writeText(staging / "model_index.json", model_index.dump(2) + "\n");
  fs::rename(staging, final_path);
}

}  // namespace

ConvertResult convertCheckpoint(const ConvertOptions& options) {
  std::error_code same_error;
  if (fs::exists(options.output) && fs::equivalent(options.input, options.output, same_error)) {
    fail(ErrorCode::InvalidArgument, "the output would overwrite the input " + options.input);
  }
  if (options.layout == ConvertLayout::Diffusers && fs::exists(options.output)) {
    fail(ErrorCode::InvalidArgument, options.output + " already exists (a diffusers export needs a new folder)");
  }
  Source source = loadSource(options.input, options.vae);
  io::NamedTensors tensors;
  ConvertResult result;
  for (auto& [name, tensor] : source.tensors) {
    if (options.prune_ema && startsWith(name, "model_ema.")) {
      ++result.ema_tensors_dropped;
      continue;
    }
    if (!options.dtype.empty() && at::isFloatingType(tensor.scalar_type())) tensor = tensor.to(parseDtype(options.dtype));
    tensors.emplace_back(name, tensor);
  }
  if (tensors.empty()) fail(ErrorCode::InvalidArgument, options.input + ": nothing left to write");
  if (result.ema_tensors_dropped > 0) spdlog::info("dropped {} model_ema.* tensors", result.ema_tensors_dropped);

  std::map<std::string, std::string> metadata = source.checkpoint.metadata();
  metadata.emplace("format", "pt");
  if (options.layout == ConvertLayout::Ldm) {
    io::writeLdmTensors(options.output, tensors, std::nullopt, metadata);  // dtype already applied above
  } else {
    writeDiffusers(tensors, modelConfig(source, options), options.output);
  }
  result.tensors_written = tensors.size();
  spdlog::info("wrote {} tensors to {}", tensors.size(), options.output);
  return result;
}


std::string convertedCheckpointPath(const std::string& pickle_path) {
  return fs::path(pickle_path).replace_extension(".safetensors").string();
}

}  // namespace gesso::io
