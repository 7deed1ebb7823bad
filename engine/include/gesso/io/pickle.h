// A pickle reader that executes nothing: it understands the opcodes torch.save emits (protocols 2-5) and turns the
// stream into a tree of inert values. Globals must be on an exact allow-list (OrderedDict, torch's tensor rebuild
// functions and *Storage types); REDUCE calls nothing and only records what an allow-listed callable would build.
#pragma once

#include <c10/core/ScalarType.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gesso::io {

struct PickleLimits {
  size_t max_stack = 1000000;
  size_t max_memo = 1000000;     // memo indices are below this
  size_t max_mark_depth = 1000;  // nested MARKs
  size_t max_values = 5000000;   // values created in all (an SD checkpoint needs ~20,000; each costs ~150 bytes)
};

enum class PickleKind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor };

const char* pickleKindName(PickleKind kind);

// One value. Containers refer to other values by index into PickleDocument::values, so lists that contain
// themselves (possible through the memo) are harmless and nothing is destroyed recursively.
struct PickleValue {
  PickleKind kind = PickleKind::None;
  int64_t integer = 0;           // Bool (0/1), Int; Storage: its element count; Tensor: storage offset
  double real = 0;               // Float
  std::string text;              // String, Bytes; Global: "module.name"; Storage: its key (the zip entry data/<key>)
  std::vector<uint32_t> items;   // Tuple, List; Dict: key0, value0, key1, value1, ... in insertion order
  c10::ScalarType dtype = c10::ScalarType::Float;  // Storage
  uint32_t storage = 0;          // Tensor: the Storage value
  std::vector<int64_t> sizes;    // Tensor
  std::vector<int64_t> strides;  // Tensor
};

struct PickleDocument {
  std::vector<PickleValue> values;
  uint32_t root = 0;  // the value STOP returned
  const PickleValue& at(uint32_t index) const { return values.at(index); }
};

// The globals a checkpoint may name ("module.name"), and whether one is.
const std::vector<std::string>& allowedPickleGlobals();
bool isAllowedPickleGlobal(const std::string& qualified_name);

// Parses a whole pickle stream (up to STOP; nothing may follow). Throws GessoError(InvalidFormat) naming `source`,
// the byte offset and the forbidden global, opcode or operation.
PickleDocument parseTorchPickle(const char* data, size_t size, const std::string& source, const PickleLimits& limits = {});

}  // namespace gesso::io
