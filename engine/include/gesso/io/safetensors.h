// safetensors files: a validating, memory-mapped reader and an atomic writer.
// The reader enforces every rule of the format and names the file and tensor in each error.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gesso::io {

enum class Dtype { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2 };

const char* dtypeName(Dtype dtype);
int64_t dtypeSize(Dtype dtype);

struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<int64_t> shape;
  uint64_t data_begin = 0;  // offsets inside the data section, as in the header
  uint64_t data_end = 0;

  int64_t numel() const;
  uint64_t byteSize() const { return data_end - data_begin; }
};

constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

class SafetensorsFile {
 public:
  // Opens, maps and validates the whole file; throws GessoError (InvalidFormat, FileNotFound, IoError).
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t fileSize() const { return file_size_; }
  uint64_t headerSize() const { return header_size_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorInfo* find(const std::string& name) const;
  bool contains(const std::string& name) const { return find(name) != nullptr; }

  // A CPU tensor with the file's dtype. Aligned data is a copy-on-write view of the mapping that keeps the
  // file mapped while it lives; unaligned data is copied. Types LibTorch lacks (F8, U16-U64) raise
  // UnsupportedDtype.
  at::Tensor tensor(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  void parseHeader(const char* header, uint64_t length);

  std::string path_;
  uint64_t file_size_ = 0;
  uint64_t header_size_ = 0;
  std::shared_ptr<void> mapping_;  // the whole file, mapped
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (any device, contiguous or not) to `path` through a temporary file renamed into place.
// Names must be unique and not "__metadata__". Throws GessoError.
void writeSafetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace gesso::io
