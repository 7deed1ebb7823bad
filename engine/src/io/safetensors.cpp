// safetensors reader and writer. Format: 8-byte little-endian header length N, N bytes of UTF-8 JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the data section.
#include "gesso/io/safetensors.h"

#include "gesso/error.h"
#include "util/atomic_file.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

namespace gesso::io {

namespace {

struct DtypeEntry {
  Dtype dtype;
  const char* name;
  int64_t size;
};

constexpr DtypeEntry kDtypes[] = {
    {Dtype::F64, "F64", 8},  {Dtype::F32, "F32", 4},  {Dtype::F16, "F16", 2},         {Dtype::BF16, "BF16", 2},
    {Dtype::I64, "I64", 8},  {Dtype::I32, "I32", 4},  {Dtype::I16, "I16", 2},         {Dtype::I8, "I8", 1},
    {Dtype::U64, "U64", 8},  {Dtype::U32, "U32", 4},  {Dtype::U16, "U16", 2},         {Dtype::U8, "U8", 1},
    {Dtype::BOOL, "BOOL", 1}, {Dtype::F8_E4M3, "F8_E4M3", 1}, {Dtype::F8_E5M2, "F8_E5M2", 1},
};

bool parseDtype(const std::string& name, Dtype& dtype) {
  for (const auto& entry : kDtypes) {
    if (name == entry.name) {
      dtype = entry.dtype;
      return true;
    }
  }
  return false;
}

bool torchType(Dtype dtype, at::ScalarType& type) {
  switch (dtype) {
    case Dtype::F64: type = at::kDouble; return true;
    case Dtype::F32: type = at::kFloat; return true;
    case Dtype::F16: type = at::kHalf; return true;
    case Dtype::BF16: type = at::kBFloat16; return true;
    case Dtype::I64: type = at::kLong; return true;
    case Dtype::I32: type = at::kInt; return true;
    case Dtype::I16: type = at::kShort; return true;
    case Dtype::I8: type = at::kChar; return true;
    case Dtype::U8: type = at::kByte; return true;
    case Dtype::BOOL: type = at::kBool; return true;
    default: return false;
  }
}

Dtype fromTorchType(at::ScalarType type, const std::string& name) {
  switch (type) {
    case at::kDouble: return Dtype::F64;
    case at::kFloat: return Dtype::F32;
    case at::kHalf: return Dtype::F16;
    case at::kBFloat16: return Dtype::BF16;
    case at::kLong: return Dtype::I64;
    case at::kInt: return Dtype::I32;
    case at::kShort: return Dtype::I16;
    case at::kChar: return Dtype::I8;
    case at::kByte: return Dtype::U8;
    case at::kBool: return Dtype::BOOL;
    default: fail(ErrorCode::UnsupportedDtype, "tensor '" + name + "': dtype " + std::string(c10::toString(type)) +
                                                   " has no safetensors equivalent");
  }
}

// Reads a JSON non-negative integer, or fails naming the field.
uint64_t readUnsigned(const nlohmann::json& value, const std::string& where) {
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0)) {
    fail(ErrorCode::InvalidFormat, where + " must be a non-negative integer");
  }
  return value.get<uint64_t>();
}

}  // namespace

const char* dtypeName(Dtype dtype) {
  for (const auto& entry : kDtypes) {
    if (entry.dtype == dtype) return entry.name;
  }
  return "?";
}

int64_t dtypeSize(Dtype dtype) {
  for (const auto& entry : kDtypes) {
    if (entry.dtype == dtype) return entry.size;
  }
  return 0;
}

int64_t TensorInfo::numel() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail(errno == ENOENT ? ErrorCode::FileNotFound : ErrorCode::IoError,
         path + ": cannot open (" + std::strerror(errno) + ")");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    fail(ErrorCode::IoError, path + ": not a regular file");
  }
  file->file_size_ = static_cast<uint64_t>(info.st_size);
  if (file->file_size_ < 8) {
    ::close(fd);
    fail(ErrorCode::InvalidFormat, path + ": file is " + std::to_string(file->file_size_) +
                                       " bytes, shorter than the 8-byte header length");
  }
  // Private copy-on-write mapping: tensors viewing it may be modified in place without touching the file.
  void* base = ::mmap(nullptr, file->file_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) fail(ErrorCode::IoError, path + ": cannot map (" + std::strerror(errno) + ")");
  const uint64_t size = file->file_size_;
  file->mapping_ = std::shared_ptr<void>(base, [size](void* pointer) { ::munmap(pointer, size); });

  const auto* bytes = static_cast<const unsigned char*>(base);
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | bytes[i];
  if (header_length > kMaxHeaderBytes) {
    fail(ErrorCode::InvalidFormat, path + ": header length " + std::to_string(header_length) +
                                       " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (8 + header_length > size) {
    fail(ErrorCode::InvalidFormat, path + ": header length " + std::to_string(header_length) +
                                       " runs past the end of the " + std::to_string(size) + "-byte file");
  }
  file->header_size_ = header_length;
  file->parseHeader(reinterpret_cast<const char*>(bytes) + 8, header_length);
  return file;
}

SafetensorsFile::~SafetensorsFile() = default;

void SafetensorsFile::parseHeader(const char* header, uint64_t length) {
  const std::string text(header, length);
  if (text.empty() || text.find_first_not_of(" \t\r\n") == std::string::npos || text[text.find_first_not_of(" \t\r\n")] != '{') {
    fail(ErrorCode::InvalidFormat, path_ + ": header is not a JSON object");
  }
  // nlohmann keeps the last of duplicate keys silently; the callback sees every top-level key.
  std::set<std::string> seen;
  std::string duplicate;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key) {
      const auto name = parsed.get<std::string>();
      if (!seen.insert(name).second && duplicate.empty()) duplicate = name;
    }
    return true;
  };
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text, callback);
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::InvalidFormat, path_ + ": header is not valid UTF-8 JSON (" + error.what() + ")");
  }
  if (!duplicate.empty()) fail(ErrorCode::InvalidFormat, path_ + ": tensor '" + duplicate + "' appears twice in the header");
  if (!json.is_object()) fail(ErrorCode::InvalidFormat, path_ + ": header is not a JSON object");

  for (const auto& [name, entry] : json.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(ErrorCode::InvalidFormat, path_ + ": __metadata__ must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
          fail(ErrorCode::InvalidFormat, path_ + ": __metadata__ value of '" + key + "' is not a string");
        }
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = path_ + ": tensor '" + name + "'";
    if (!entry.is_object()) fail(ErrorCode::InvalidFormat, where + ": entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) fail(ErrorCode::InvalidFormat, where + ": missing string 'dtype'");
    if (!entry.contains("shape") || !entry["shape"].is_array()) fail(ErrorCode::InvalidFormat, where + ": missing array 'shape'");
    if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
      fail(ErrorCode::InvalidFormat, where + ": 'data_offsets' must be an array [begin, end]");
    }
    TensorInfo tensor;
    tensor.name = name;
    const auto dtype_name = entry["dtype"].get<std::string>();
    if (!parseDtype(dtype_name, tensor.dtype)) fail(ErrorCode::InvalidFormat, where + ": unknown dtype '" + dtype_name + "'");
    uint64_t count = 1;
    for (const auto& dim : entry["shape"]) {
      const uint64_t extent = readUnsigned(dim, where + ": shape entry");
      if (extent > 0 && count > std::numeric_limits<uint64_t>::max() / 16 / extent) {
        fail(ErrorCode::InvalidFormat, where + ": shape is too large");
      }
      count *= extent;
      tensor.shape.push_back(static_cast<int64_t>(extent));
    }
    tensor.data_begin = readUnsigned(entry["data_offsets"][0], where + ": data_offsets[0]");
    tensor.data_end = readUnsigned(entry["data_offsets"][1], where + ": data_offsets[1]");
    if (tensor.data_end < tensor.data_begin) fail(ErrorCode::InvalidFormat, where + ": data_offsets end before begin");
    const uint64_t expected = count * static_cast<uint64_t>(dtypeSize(tensor.dtype));
    if (tensor.byteSize() != expected) {
      fail(ErrorCode::InvalidFormat, where + ": data_offsets span " + std::to_string(tensor.byteSize()) +
                                         " bytes but shape and dtype need " + std::to_string(expected));
    }
    tensors_.push_back(std::move(tensor));
  }

  // The tensors must tile the data section exactly: no gap, no overlap, nothing left over.
  std::stable_sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.data_begin != b.data_begin ? a.data_begin < b.data_begin : a.data_end < b.data_end;
  });
  uint64_t position = 0;
  for (const auto& tensor : tensors_) {
    if (tensor.data_begin != position) {
      fail(ErrorCode::InvalidFormat, path_ + ": tensor '" + tensor.name + "' starts at data offset " +
                                         std::to_string(tensor.data_begin) + ", expected " + std::to_string(position) +
                                         (tensor.data_begin < position ? " (overlaps the previous tensor)" : " (gap)"));
    }
    position = tensor.data_end;
  }
  const uint64_t data_size = file_size_ - 8 - header_size_;
  if (position != data_size) {
    fail(ErrorCode::InvalidFormat, path_ + ": header describes " + std::to_string(position) + " bytes of data but the file holds " +
                                       std::to_string(data_size) + (position > data_size ? " (truncated file)" : " (trailing bytes)"));
  }
  for (size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  const auto found = index_.find(name);
  return found == index_.end() ? nullptr : &tensors_[found->second];
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorInfo* info = find(name);
  if (!info) fail(ErrorCode::MissingKey, path_ + ": no tensor named '" + name + "'");
  at::ScalarType type{};
  if (!torchType(info->dtype, type)) {
    fail(ErrorCode::UnsupportedDtype, path_ + ": tensor '" + name + "' has dtype " + dtypeName(info->dtype) +
                                          ", which this LibTorch cannot represent");
  }
  const auto options = at::TensorOptions().dtype(type).device(at::kCPU);
  if (info->numel() == 0) return at::empty(info->shape, options);
  char* data = static_cast<char*>(mapping_.get()) + 8 + header_size_ + info->data_begin;
  const int64_t element_size = dtypeSize(info->dtype);
  if (reinterpret_cast<uintptr_t>(data) % static_cast<uintptr_t>(element_size) == 0) {
    auto keep_mapped = mapping_;
    return at::from_blob(data, info->shape, [keep_mapped](void*) {}, options);
  }
  // Unaligned: copy bytes into an aligned tensor rather than reinterpret a misaligned pointer.
  at::Tensor copy = at::empty(info->shape, options);
  std::memcpy(copy.data_ptr(), data, info->byteSize());
  return copy;
}

void writeSafetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<at::Tensor> contiguous;
  contiguous.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") fail(ErrorCode::InvalidArgument, path + ": '__metadata__' cannot name a tensor");
    if (header.contains(name)) fail(ErrorCode::InvalidArgument, path + ": tensor '" + name + "' given twice");
    if (!tensor.defined()) fail(ErrorCode::InvalidArgument, path + ": tensor '" + name + "' is undefined");
    const Dtype dtype = fromTorchType(tensor.scalar_type(), name);
    at::Tensor data = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(data.numel()) * static_cast<uint64_t>(dtypeSize(dtype));
    header[name] = {{"dtype", dtypeName(dtype)}, {"shape", data.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(data));
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the data section starts 8-byte aligned

  AtomicFile out(path);
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>((text.size() >> (8 * i)) & 0xff);
  out.write(length, 8);
  out.write(text.data(), text.size());
  for (const auto& data : contiguous) out.write(data.data_ptr(), data.nbytes());
  out.commit();
}

}  // namespace gesso::io
