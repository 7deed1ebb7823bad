// A model checkpoint seen through Gesso's internal names: the original LDM/sgm single-file keys
// (model.diffusion_model.*, first_stage_model.*, cond_stage_model.* or conditioner.embedders.N.*), whatever the
// layout on disk (one .safetensors file or a diffusers folder). Tensors are read on demand from the open files.
#pragma once

#include "gesso/io/safetensors.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gesso::io {

// One tensor under its internal name: dtype and shape known without reading; read() loads it (a CPU tensor in
// its file dtype, converted to the internal layout where the file's layout differs).
struct TensorSource {
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape;
  std::string origin;                 // "file: key" (keys joined with "+" where several are combined)
  std::function<at::Tensor()> read;

  int64_t numel() const;
  at::Tensor load() const;
};

enum class CheckpointLayout { SingleFile, Diffusers };

class Checkpoint {
 public:
  // A .safetensors file, or a diffusers folder (with model_index.json). Throws GessoError naming the file.
  static Checkpoint open(const std::string& path);

  // Replaces every first_stage_model.* tensor with those of a standalone VAE: a .safetensors file with LDM names
  // without the first_stage_model. prefix, or with it (then only the prefixed tensors are taken, so a full
  // checkpoint can lend its VAE), or diffusers names; or a diffusers vae/ folder.
  void replaceVae(const std::string& path);

  const std::string& path() const { return path_; }
  CheckpointLayout layout() const { return layout_; }
  const std::map<std::string, TensorSource>& tensors() const { return tensors_; }
  const TensorSource* find(const std::string& name) const;
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  at::Tensor load(const std::string& name) const;  // MissingKey naming the checkpoint if absent
  std::vector<std::string> namesUnder(const std::string& prefix) const;
  std::map<std::string, std::vector<int64_t>> shapes() const;

  // diffusers: the config.json text of each component folder ("unet", "vae", "text_encoder", "text_encoder_2"),
  // "scheduler" for scheduler/scheduler_config.json and "model_index" for model_index.json. Empty for a single file.
  const std::map<std::string, std::string>& diffusersConfigs() const { return diffusers_configs_; }
  // A single file's __metadata__ (empty for diffusers folders).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& vaePath() const { return vae_path_; }  // empty unless replaceVae() was called

  // Adds or replaces one tensor (used by the loaders and by tests).
  void insert(const std::string& name, TensorSource source);

 private:
  std::string path_;
  std::string vae_path_;
  CheckpointLayout layout_ = CheckpointLayout::SingleFile;
  std::map<std::string, TensorSource> tensors_;
  std::map<std::string, std::string> diffusers_configs_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace gesso::io
