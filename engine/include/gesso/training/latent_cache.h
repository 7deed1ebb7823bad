// On-disk cache of VAE latents and text embeddings: one safetensors file per key under folder/model_hash/, written
// atomically and checked on reading (a damaged file is a miss, with a warning, and is rewritten by the next store).
#pragma once

#include "gesso/training/dataset.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace torch::nn {
class Module;
}

namespace gesso::training {

class TensorCache {  // latents / text embeddings on disk: one safetensors file per key, written atomically
 public:
  TensorCache(std::string folder, std::string model_hash);  // model_hash: the VAE's or text encoder's hash

  static std::string latentKey(const DatasetItem& item, const Augmentation& augmentation);  // content hash + bucket + augmentation
  static std::string textKey(const std::string& caption, int clip_skip);

  // The stored tensors (CPU, as stored), or nullopt when absent or damaged. Not thread-safe (counts hits).
  std::optional<std::map<std::string, at::Tensor>> load(const std::string& key) const;
  // Throws GessoError(IoError / InvalidArgument) naming the file.
  void store(const std::string& key, const std::map<std::string, at::Tensor>& tensors);
  bool contains(const std::string& key) const;  // a file exists for the key (not checked)

  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }
  std::string pathFor(const std::string& key) const;  // folder/model_hash/<sha256(key)>.safetensors
  const std::string& folder() const { return folder_; }

 private:
  std::string folder_;
  std::string model_hash_;
  mutable int64_t hits_ = 0;
  mutable int64_t misses_ = 0;
};

// SHA-256 (hex) over every parameter and buffer: its name, dtype, shape and the SHA-256 of its bytes.
std::string hashModule(const torch::nn::Module& module);

}  // namespace gesso::training
