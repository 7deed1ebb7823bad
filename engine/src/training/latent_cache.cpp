// TensorCache and hashModule (see latent_cache.h). Each file carries its key and a checksum of its tensors in the
// safetensors metadata, so a truncated, corrupted or misplaced file is recognised and treated as a miss.
#include "gesso/training/latent_cache.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/util/sha256.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>
#include <torch/nn/module.h>

#include <filesystem>
#include <sstream>

namespace gesso::training {

namespace {

namespace fs = std::filesystem;

constexpr const char* kKeyField = "gesso.cache_key";
constexpr const char* kChecksumField = "gesso.checksum";

// SHA-256 of a tensor's name, dtype, shape and bytes.
std::string tensorDigest(const std::string& name, const at::Tensor& tensor) {
  const at::Tensor bytes = tensor.detach().to(at::kCPU).contiguous();
  std::ostringstream head;
  head << name << '\n' << c10::toString(bytes.scalar_type()) << '\n';
  for (const int64_t size : bytes.sizes()) head << size << ',';
  const std::string data_digest =
      util::sha256Hex(std::string_view(static_cast<const char*>(bytes.data_ptr()), size_t(bytes.nbytes())));
  return util::sha256Hex(head.str() + '\n' + data_digest);
}

std::string checksum(const std::map<std::string, at::Tensor>& tensors) {
  std::string digests;
  for (const auto& [name, tensor] : tensors) digests += tensorDigest(name, tensor) + '\n';
  return util::sha256Hex(digests);
}

}  // namespace

TensorCache::TensorCache(std::string folder, std::string model_hash) : folder_(std::move(folder)), model_hash_(std::move(model_hash)) {
  if (folder_.empty()) fail(ErrorCode::InvalidArgument, "tensor cache: no folder given");
  if (model_hash_.empty() || model_hash_.find('/') != std::string::npos || model_hash_ == "." || model_hash_ == "..") {
    fail(ErrorCode::InvalidArgument, "tensor cache: model hash \"" + model_hash_ + "\" is not a folder name");
  }
}

std::string TensorCache::latentKey(const DatasetItem& item, const Augmentation& augmentation) {
  return "latent\n" + item.content_hash + "\nmask " + item.mask_hash + "\n" + std::to_string(item.bucket_width) + "x" +
         std::to_string(item.bucket_height) + "\n" + augmentation.key() + "\n" + item.preprocessing;
}

std::string TensorCache::textKey(const std::string& caption, int clip_skip) {
  return "text\nclip_skip " + std::to_string(clip_skip) + "\n" + caption;
}

std::string TensorCache::pathFor(const std::string& key) const {
  return (fs::path(folder_) / model_hash_ / (util::sha256Hex(key) + ".safetensors")).string();
}

bool TensorCache::contains(const std::string& key) const {
  std::error_code error;
  return fs::is_regular_file(pathFor(key), error);
}

std::optional<std::map<std::string, at::Tensor>> TensorCache::load(const std::string& key) const {
  const std::string path = pathFor(key);
  std::error_code error;
  if (!fs::exists(path, error)) {
    ++misses_;
    return std::nullopt;
  }
  try {
    const auto file = io::SafetensorsFile::open(path);
    const auto stored_key = file->metadata().find(kKeyField);
    const auto stored_checksum = file->metadata().find(kChecksumField);
    if (stored_key == file->metadata().end() || stored_key->second != key) fail(ErrorCode::InvalidFormat, "written for another key");
    if (stored_checksum == file->metadata().end()) fail(ErrorCode::InvalidFormat, "no checksum");
    std::map<std::string, at::Tensor> tensors;
    for (const io::TensorInfo& info : file->tensors()) tensors[info.name] = file->tensor(info.name).clone();  // off the mapping
    if (checksum(tensors) != stored_checksum->second) fail(ErrorCode::InvalidFormat, "checksum mismatch");
    ++hits_;
    return tensors;
  } catch (const std::exception& failure) {
    spdlog::warn("cache file {} is damaged ({}); it will be recomputed", path, failure.what());
    ++misses_;
    return std::nullopt;
  }
}

void TensorCache::store(const std::string& key, const std::map<std::string, at::Tensor>& tensors) {
  if (tensors.empty()) fail(ErrorCode::InvalidArgument, "tensor cache: nothing to store for " + pathFor(key));
  const fs::path path = pathFor(key);
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  if (error) fail(ErrorCode::IoError, path.parent_path().string() + ": cannot create the cache folder (" + error.message() + ")");
  std::vector<std::pair<std::string, at::Tensor>> list(tensors.begin(), tensors.end());
  io::writeSafetensors(path.string(), list, {{kKeyField, key}, {kChecksumField, checksum(tensors)}});
}

std::string hashModule(const torch::nn::Module& module) {
  std::string digests;
  for (const auto& entry : module.named_parameters(/*recurse=*/true)) digests += tensorDigest("parameter " + entry.key(), entry.value()) + '\n';
  for (const auto& entry : module.named_buffers(/*recurse=*/true)) digests += tensorDigest("buffer " + entry.key(), entry.value()) + '\n';
  return util::sha256Hex(digests);
}

}  // namespace gesso::training
