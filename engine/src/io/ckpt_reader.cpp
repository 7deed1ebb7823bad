// torch.save zip checkpoints: <root>/data.pkl (the pickle), <root>/data/<key> (raw little-endian storages),
// <root>/version and <root>/byteorder. The pickle is parsed whole and every tensor validated before any storage is read.
#include "gesso/io/ckpt_reader.h"

#include "gesso/error.h"
#include "gesso/io/pickle.h"
#include "gesso/io/zip_reader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>

namespace gesso::io {

namespace {

constexpr uint64_t kMaxPickleBytes = 1ull << 30;
constexpr int kMaxDictDepth = 16;
constexpr size_t kMaxVisits = 20000000;

struct Leaf {
  std::string name;
  uint32_t tensor = 0;
};

struct Collector {
  const PickleDocument& document;
  const std::string& source;
  std::vector<Leaf> leaves;
  std::unordered_set<uint32_t> visiting;  // dicts on the current path: a dict inside itself is refused
  size_t visits = 0;                      // bounds the walk when one dict is referenced from many places

  void collect(uint32_t dict, const std::string& prefix, int depth) {
    if (depth > kMaxDictDepth) fail(ErrorCode::InvalidFormat, source + ": dicts nested deeper than " + std::to_string(kMaxDictDepth) + " at \"" + prefix + "\"");
    if (!visiting.insert(dict).second) fail(ErrorCode::InvalidFormat, source + ": a dict contains itself at \"" + prefix + "\"");
    const auto& items = document.at(dict).items;
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      if (++visits > kMaxVisits) fail(ErrorCode::InvalidFormat, source + ": more than " + std::to_string(kMaxVisits) + " dict entries to walk");
      const PickleValue& key = document.at(items[i]);
      const PickleValue& value = document.at(items[i + 1]);
      if (value.kind != PickleKind::Tensor && value.kind != PickleKind::Dict) continue;  // global_step, epoch, ...
      if (key.kind != PickleKind::String) {
        if (value.kind == PickleKind::Dict) continue;  // e.g. optimizer state keyed by parameter number
        fail(ErrorCode::InvalidFormat, source + ": a tensor under \"" + prefix + "\" has a " + pickleKindName(key.kind) + " key (names must be strings)");
      }
      const std::string name = prefix + key.text;
      if (value.kind == PickleKind::Tensor) {
        leaves.push_back({name, items[i + 1]});
      } else {
        collect(items[i + 1], name + ".", depth + 1);
      }
    }
    visiting.erase(dict);
  }
};

// Elements of storage a tensor touches: offset + sum((size - 1) * stride) + 1, or 0 when it is empty.
bool requiredElements(const PickleValue& tensor, unsigned __int128& required) {
  required = 0;
  for (int64_t size : tensor.sizes) {
    if (size == 0) return true;
  }
  unsigned __int128 last = static_cast<uint64_t>(tensor.integer);
  for (size_t d = 0; d < tensor.sizes.size(); ++d) {
    last += static_cast<unsigned __int128>(static_cast<uint64_t>(tensor.sizes[d] - 1)) * static_cast<uint64_t>(tensor.strides[d]);
    if (last >> 100) return false;
  }
  required = last + 1;
  return true;
}

NamedTensors readArchive(const ZipReader& archive) {
  const std::string& source = archive.source();
  if (archive.entries().empty()) fail(ErrorCode::InvalidFormat, source + ": the zip archive is empty");
  const std::string& first = archive.entries().front().name;
  const size_t slash = first.find('/');
  if (slash == std::string::npos) fail(ErrorCode::InvalidFormat, source + ": entry \"" + first + "\" is not inside a folder (not a torch.save archive)");
  const std::string root = first.substr(0, slash + 1);
  for (const auto& entry : archive.entries()) {
    if (entry.name.compare(0, root.size(), root) != 0) {
      fail(ErrorCode::InvalidFormat, source + ": entry \"" + entry.name + "\" lies outside the archive folder \"" + root + "\"");
    }
  }

  const ZipEntry* pickle_entry = archive.find(root + "data.pkl");
  if (!pickle_entry) fail(ErrorCode::InvalidFormat, source + ": no " + root + "data.pkl (not a torch.save archive)");
  if (const ZipEntry* order = archive.find(root + "byteorder")) {
    if (order->size > 16) fail(ErrorCode::InvalidFormat, source + ": implausible byteorder entry");
    const std::string byte_order = archive.readString(*order);
    if (byte_order != "little") fail(ErrorCode::InvalidFormat, source + ": byte order \"" + byte_order + "\" is not supported (only little-endian)");
  }
  if (const ZipEntry* version = archive.find(root + "version")) {
    if (version->size > 16) fail(ErrorCode::InvalidFormat, source + ": implausible version entry");
    std::string text = archive.readString(*version);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.empty() || text.size() > 2 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      fail(ErrorCode::InvalidFormat, source + ": unreadable archive version \"" + text + "\"");
    }
  }
  if (pickle_entry->size > kMaxPickleBytes) fail(ErrorCode::InvalidFormat, source + ": data.pkl is larger than 1 GiB");
  const std::string pickle = archive.readString(*pickle_entry);
  const std::string pickle_source = source + " (" + pickle_entry->name + ")";
  const PickleDocument document = parseTorchPickle(pickle.data(), pickle.size(), pickle_source);

  // Everything below only inspects the parsed values; storages are read once all of them check out.
  uint32_t top = document.root;
  if (document.at(top).kind != PickleKind::Dict) {
    fail(ErrorCode::InvalidFormat, pickle_source + ": the checkpoint is a " + std::string(pickleKindName(document.at(top).kind)) + ", not a dict of tensors");
  }
  const auto& top_items = document.at(top).items;
  for (size_t i = 0; i + 1 < top_items.size(); i += 2) {
    const PickleValue& key = document.at(top_items[i]);
    if (key.kind == PickleKind::String && key.text == "state_dict" && document.at(top_items[i + 1]).kind == PickleKind::Dict) {
      top = top_items[i + 1];
    }
  }
  Collector collector{document, pickle_source, {}, {}, 0};
  collector.collect(top, "", 0);
  const std::vector<Leaf>& leaves = collector.leaves;
  if (leaves.empty()) fail(ErrorCode::InvalidFormat, pickle_source + ": no tensors found");

  // A later assignment to the same name replaces the earlier one, as in a Python dict.
  std::map<std::string, size_t> position;
  std::vector<Leaf> unique;
  for (const auto& leaf : leaves) {
    auto found = position.find(leaf.name);
    if (found != position.end()) {
      unique[found->second] = leaf;
    } else {
      position[leaf.name] = unique.size();
      unique.push_back(leaf);
    }
  }

  std::map<uint32_t, const ZipEntry*> storage_entries;
  for (const auto& leaf : unique) {
    const PickleValue& tensor = document.at(leaf.tensor);
    const PickleValue& storage = document.at(tensor.storage);
    const std::string entry_name = root + "data/" + storage.text;
    const ZipEntry* entry = archive.find(entry_name);
    if (!entry) fail(ErrorCode::InvalidFormat, source + ": tensor \"" + leaf.name + "\" needs storage entry \"" + entry_name + "\", which is absent");
    const uint64_t element_size = c10::elementSize(storage.dtype);
    const uint64_t elements = static_cast<uint64_t>(storage.integer);
    if (elements > (1ull << 60) / element_size || entry->size != elements * element_size) {
      fail(ErrorCode::InvalidFormat, source + ": storage \"" + entry_name + "\" holds " + std::to_string(entry->size) + " bytes but its pickle declares " +
                                         std::to_string(elements) + " " + c10::toString(storage.dtype) + " elements");
    }
    unsigned __int128 required = 0;
    if (!requiredElements(tensor, required) || required > elements) {
      std::string shape;
      for (int64_t size : tensor.sizes) shape += (shape.empty() ? "" : ", ") + std::to_string(size);
      fail(ErrorCode::InvalidFormat, source + ": tensor \"" + leaf.name + "\" of shape [" + shape + "] needs more elements than its storage \"" +
                                         entry_name + "\" holds (" + std::to_string(elements) + "): the storage is shorter than the tensor");
    }
    storage_entries[tensor.storage] = entry;
  }

  std::map<uint32_t, at::Tensor> storages;
  for (const auto& [index, entry] : storage_entries) {
    const PickleValue& storage = document.at(index);
    at::Tensor data = at::empty({storage.integer}, at::TensorOptions().dtype(storage.dtype));
    archive.read(*entry, data.data_ptr());
    if (storage.dtype == c10::ScalarType::Bool) {
      const auto* bytes = static_cast<const unsigned char*>(data.data_ptr());
      for (int64_t i = 0; i < storage.integer; ++i) {
        if (bytes[i] > 1) fail(ErrorCode::InvalidFormat, source + ": bool storage \"" + entry->name + "\" holds a byte other than 0 or 1");
      }
    }
    storages[index] = data;
  }

  NamedTensors tensors;
  tensors.reserve(unique.size());
  for (const auto& leaf : unique) {
    const PickleValue& tensor = document.at(leaf.tensor);
    const at::Tensor& storage = storages.at(tensor.storage);
    at::Tensor view = storage.as_strided(tensor.sizes, tensor.strides, tensor.integer);
    // A tensor that is its whole storage shares it; any other view is copied so it does not pin a larger buffer.
    if (!(view.is_contiguous() && view.numel() == storage.numel())) view = view.clone(at::MemoryFormat::Contiguous);
    tensors.emplace_back(leaf.name, view);
  }
  return tensors;
}

std::string extensionOf(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

}  // namespace

NamedTensors readTorchCheckpoint(const ZipReader& archive) { return readArchive(archive); }

NamedTensors readTorchCheckpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) fail(ErrorCode::FileNotFound, "no such file: " + path);
    fail(ErrorCode::IoError, "cannot read " + path);
  }
  char head[512] = {};
  in.read(head, sizeof(head));
  const std::streamsize got = in.gcount();
  if (got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return readArchive(*ZipReader::open(path));
  if (got >= 4 && std::memcmp(head, "PK\x05\x06", 4) == 0) fail(ErrorCode::InvalidFormat, path + ": the zip archive is empty");
  if (got >= 262 && std::memcmp(head + 257, "ustar", 5) == 0) {
    fail(ErrorCode::InvalidFormat, path + ": a legacy tar checkpoint (PyTorch before 0.4) is not read; re-save it with a recent "
                                          "PyTorch (torch.save) or obtain a .safetensors file");
  }
  if (got >= 2 && static_cast<unsigned char>(head[0]) == 0x80) {
    fail(ErrorCode::InvalidFormat, path + ": a legacy pickle checkpoint (PyTorch before 1.6) is not read; re-save it with a "
                                          "recent PyTorch (torch.save) or obtain a .safetensors file");
  }
  fail(ErrorCode::InvalidFormat, path + ": not a PyTorch checkpoint (neither a zip archive nor a pickle)");
}

bool isTorchCheckpointFile(const std::string& path) {
  const std::string extension = extensionOf(path);
  if (extension == ".ckpt" || extension == ".pt" || extension == ".pth" || extension == ".bin") return true;
  std::ifstream in(path, std::ios::binary);
  char head[4] = {};
  in.read(head, 4);
  if (in.gcount() < 4) return false;
  // Not the pickle magic: a safetensors header length can begin with the same bytes.
  return std::memcmp(head, "PK\x03\x04", 4) == 0;
}

}  // namespace gesso::io
