// Checkpoint: single .safetensors files and diffusers folders under the internal LDM/sgm names, read lazily.
#include "gesso/io/checkpoint.h"

#include "gesso/error.h"
#include "gesso/io/ckpt_reader.h"
#include "gesso/io/diffusers_names.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gesso::io {

namespace fs = std::filesystem;

int64_t TensorSource::numel() const {
  int64_t count = 1;
  for (int64_t size : shape) count *= size;
  return count;
}

at::Tensor TensorSource::load() const {
  if (!read) fail(ErrorCode::Internal, "tensor source " + origin + " has no reader");
  return read();
}

namespace {

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::IoError, "cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TensorSource directSource(const std::shared_ptr<SafetensorsFile>& file, const TensorInfo& info) {
  TensorSource source;
  source.dtype = info.dtype;
  source.shape = info.shape;
  source.origin = file->path() + ": " + info.name;
  source.read = [file, name = info.name] { return file->tensor(name); };
  return source;
}

// Sources for one component file through a name mapping; names in the mapping are relative to the file.
std::vector<std::pair<std::string, TensorSource>> mappedSources(const std::shared_ptr<SafetensorsFile>& file,
                                                                const std::vector<NameMapping>& mappings,
                                                                const std::string& prefix) {
  std::vector<std::pair<std::string, TensorSource>> sources;
  for (const auto& mapping : mappings) {
    std::vector<std::vector<int64_t>> shapes;
    std::string origin;
    for (const auto& name : mapping.sources) {
      const TensorInfo* info = file->find(name);
      if (!info) fail(ErrorCode::MissingKey, file->path() + ": tensor \"" + name + "\" is absent (needed for " + mapping.target + ")");
      shapes.push_back(info->shape);
      origin += (origin.empty() ? "" : "+") + name;
    }
    const TensorInfo* first = file->find(mapping.sources.front());
    if (mapping.op == TensorOp::ConcatRows) {
      for (const auto& name : mapping.sources) {
        const TensorInfo* info = file->find(name);
        if (info->dtype != first->dtype || info->shape.size() != first->shape.size()) {
          fail(ErrorCode::ShapeMismatch, file->path() + ": \"" + name + "\" cannot be concatenated with \"" +
                                             first->name + "\" into " + mapping.target);
        }
      }
    }
    TensorSource source;
    source.dtype = first->dtype;
    source.shape = mappedShape(mapping, shapes);
    source.origin = file->path() + ": " + origin;
    source.read = [file, mapping] {
      std::vector<at::Tensor> tensors;
      for (const auto& name : mapping.sources) tensors.push_back(file->tensor(name));
      return applyMapping(mapping, tensors);
    };
    sources.emplace_back(prefix + mapping.target, std::move(source));
  }
  return sources;
}

std::vector<std::string> namesOf(const SafetensorsFile& file) {
  std::vector<std::string> names;
  for (const auto& info : file.tensors()) names.push_back(info.name);
  return names;
}

// The weights of a diffusers component folder: the plain file, else its fp16 variant. Empty path if absent.
fs::path componentWeights(const fs::path& folder, const std::string& stem) {
  for (const std::string& candidate : {stem + ".safetensors", stem + ".fp16.safetensors"}) {
    if (fs::is_regular_file(folder / candidate)) return folder / candidate;
  }
  if (fs::exists(folder)) {
    for (const std::string& pickle : {stem + ".bin", stem + ".fp16.bin", stem + ".ckpt"}) {
      if (fs::exists(folder / pickle)) {
        fail(ErrorCode::InvalidFormat, (folder / pickle).string() + ": pickle weights are not read (only .safetensors)");
      }
    }
  }
  return {};
}

bool usesDiffusersVaeNames(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (startsWith(name, "encoder.down_blocks.") || startsWith(name, "decoder.up_blocks.") ||
        startsWith(name, "encoder.mid_block.") || startsWith(name, "decoder.mid_block.")) {
      return true;
    }
  }
  return false;
}

// A text encoder folder is open_clip-like (SD2.x, SDXL's second) when its config uses exact GELU.
bool isOpenClipText(const std::string& config_json, const std::string& source) {
  try {
    const auto json = nlohmann::json::parse(config_json);
    return json.value("hidden_act", std::string("quick_gelu")) == "gelu";
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::ConfigError, source + ": not valid JSON: " + error.what());
  }
}

}  // namespace

const TensorSource* Checkpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

at::Tensor Checkpoint::load(const std::string& name) const {
  const TensorSource* source = find(name);
  if (!source) fail(ErrorCode::MissingKey, path_ + ": no tensor \"" + name + "\"");
  return source->load();
}

std::vector<std::string> Checkpoint::namesUnder(const std::string& prefix) const {
  std::vector<std::string> names;
  for (auto it = tensors_.lower_bound(prefix); it != tensors_.end() && startsWith(it->first, prefix); ++it) {
    names.push_back(it->first);
  }
  return names;
}

std::map<std::string, std::vector<int64_t>> Checkpoint::shapes() const {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, source] : tensors_) shapes[name] = source.shape;
  return shapes;
}

void Checkpoint::insert(const std::string& name, TensorSource source) { tensors_[name] = std::move(source); }

Checkpoint Checkpoint::open(const std::string& path) {
  Checkpoint checkpoint;
  checkpoint.path_ = path;
  const fs::path root(path);
  if (!fs::exists(root)) fail(ErrorCode::FileNotFound, "no such file or folder: " + path);

  if (!fs::is_directory(root)) {
    if (isTorchCheckpointFile(path)) {
      fail(ErrorCode::InvalidFormat, path + " is a PyTorch pickle checkpoint, which is never loaded directly (pickles can run "
                                            "code); convert it once with: gesso-cli convert \"" + path + "\" OUT.safetensors");
    }
    auto file = SafetensorsFile::open(path);
    checkpoint.layout_ = CheckpointLayout::SingleFile;
    checkpoint.metadata_ = file->metadata();
    for (const auto& info : file->tensors()) checkpoint.tensors_[info.name] = directSource(file, info);
    return checkpoint;
  }

  checkpoint.layout_ = CheckpointLayout::Diffusers;
  if (!fs::is_regular_file(root / "model_index.json")) {
    fail(ErrorCode::InvalidFormat, path + " is a folder without model_index.json (not a diffusers pipeline)");
  }
  checkpoint.diffusers_configs_["model_index"] = readText(root / "model_index.json");
  for (const char* component : {"unet", "vae", "text_encoder", "text_encoder_2"}) {
    if (fs::is_regular_file(root / component / "config.json")) {
      checkpoint.diffusers_configs_[component] = readText(root / component / "config.json");
    }
  }
  if (fs::is_regular_file(root / "scheduler" / "scheduler_config.json")) {  // holds the prediction type
    checkpoint.diffusers_configs_["scheduler"] = readText(root / "scheduler" / "scheduler_config.json");
  }

  const fs::path unet_file = componentWeights(root / "unet", "diffusion_pytorch_model");
  if (unet_file.empty()) fail(ErrorCode::FileNotFound, path + ": no unet/diffusion_pytorch_model.safetensors");
  {
    auto file = SafetensorsFile::open(unet_file.string());
    for (auto& [name, source] : mappedSources(file, diffusersUNetToLdm(namesOf(*file)), "model.diffusion_model.")) {
      checkpoint.tensors_[name] = std::move(source);
    }
  }
  const fs::path vae_file = componentWeights(root / "vae", "diffusion_pytorch_model");
  if (!vae_file.empty()) {
    auto file = SafetensorsFile::open(vae_file.string());
    for (auto& [name, source] : mappedSources(file, diffusersVaeToLdm(namesOf(*file)), "first_stage_model.")) {
      checkpoint.tensors_[name] = std::move(source);
    }
  }

  // Text encoders: one (SD1.x: transformers CLIP kept as is; SD2.x: converted to open_clip) or two (SDXL).
  const fs::path text_file = componentWeights(root / "text_encoder", "model");
  const fs::path text2_file = componentWeights(root / "text_encoder_2", "model");
  const bool two_encoders = !text2_file.empty();
  auto addText = [&](const fs::path& weights, const std::string& component, const std::string& hf_prefix,
                     const std::string& open_clip_prefix) {
    auto file = SafetensorsFile::open(weights.string());
    const auto config = checkpoint.diffusers_configs_.find(component);
    const std::vector<std::string> names = namesOf(*file);
    // Without a config.json: text_encoder_2 is always OpenCLIP bigG; a lone text_encoder is taken as CLIP-L.
    const bool open_clip = config != checkpoint.diffusers_configs_.end()
                               ? isOpenClipText(config->second, (root / component / "config.json").string())
                               : component == "text_encoder_2";
    if (open_clip) {
      for (auto& [name, source] : mappedSources(file, diffusersClipToOpenClip(names), open_clip_prefix)) {
        checkpoint.tensors_[name] = std::move(source);
      }
    } else {
      for (const auto& info : file->tensors()) checkpoint.tensors_[hf_prefix + info.name] = directSource(file, info);
    }
  };
  if (!text_file.empty()) {
    if (two_encoders) {
      addText(text_file, "text_encoder", "conditioner.embedders.0.transformer.", "conditioner.embedders.0.model.");
    } else {
      addText(text_file, "text_encoder", "cond_stage_model.transformer.", "cond_stage_model.model.");
    }
  }
  if (two_encoders) addText(text2_file, "text_encoder_2", "conditioner.embedders.1.transformer.", "conditioner.embedders.1.model.");
  return checkpoint;
}

void Checkpoint::replaceVae(const std::string& path) {
  const std::string prefix = "first_stage_model.";
  std::vector<std::pair<std::string, TensorSource>> replacement;
  fs::path weights(path);
  if (!fs::exists(weights)) fail(ErrorCode::FileNotFound, "no such VAE file or folder: " + path);
  if (fs::is_directory(weights)) {
    weights = componentWeights(weights, "diffusion_pytorch_model");
    if (weights.empty()) fail(ErrorCode::FileNotFound, path + ": no diffusion_pytorch_model.safetensors");
  }
  auto file = SafetensorsFile::open(weights.string());
  const std::vector<std::string> names = namesOf(*file);
  if (usesDiffusersVaeNames(names)) {
    replacement = mappedSources(file, diffusersVaeToLdm(names), prefix);
  } else {
    // LDM names with the prefix (then only those are taken: a full checkpoint can lend its VAE) or without it.
    const bool prefixed = std::any_of(names.begin(), names.end(), [&](const std::string& name) { return startsWith(name, prefix); });
    for (const auto& info : file->tensors()) {
      if (prefixed && !startsWith(info.name, prefix)) continue;
      if (!prefixed && startsWith(info.name, "model_ema.")) continue;  // EMA bookkeeping of a training checkpoint
      replacement.emplace_back(prefixed ? info.name : prefix + info.name, directSource(file, info));
    }
  }
  if (replacement.empty()) fail(ErrorCode::InvalidFormat, weights.string() + ": the VAE file has no tensors");
  for (const auto& name : namesUnder(prefix)) tensors_.erase(name);
  for (auto& [name, source] : replacement) tensors_[name] = std::move(source);
  vae_path_ = path;
}

}  // namespace gesso::io
