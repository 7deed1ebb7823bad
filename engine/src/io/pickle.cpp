// The inert pickle machine: a stack, a memo and a mark stack over plain values. Every opcode is checked against the
// bytes left, every container operation against the kind of its target, and every global against the allow-list
// before anything else happens. Nothing here calls out of this file.
#include "gesso/io/pickle.h"

#include "gesso/error.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace gesso::io {

namespace {

const char* opcodeName(unsigned char op) {
  switch (op) {
    case '(': return "MARK";
    case '.': return "STOP";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'L': return "LONG";
    case 'M': return "BININT2";
    case 'N': return "NONE";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";
    case 'X': return "BINUNICODE";
    case 'a': return "APPEND";
    case 'b': return "BUILD";
    case 'c': return "GLOBAL";
    case 'd': return "DICT";
    case '}': return "EMPTY_DICT";
    case 'e': return "APPENDS";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'i': return "INST";
    case 'j': return "LONG_BINGET";
    case 'l': return "LIST";
    case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";
    case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

const std::vector<std::pair<std::string, c10::ScalarType>>& storageTypes() {
  static const std::vector<std::pair<std::string, c10::ScalarType>> types = {
      {"torch.FloatStorage", c10::ScalarType::Float},   {"torch.HalfStorage", c10::ScalarType::Half},
      {"torch.BFloat16Storage", c10::ScalarType::BFloat16}, {"torch.DoubleStorage", c10::ScalarType::Double},
      {"torch.LongStorage", c10::ScalarType::Long},     {"torch.IntStorage", c10::ScalarType::Int},
      {"torch.ShortStorage", c10::ScalarType::Short},   {"torch.CharStorage", c10::ScalarType::Char},
      {"torch.ByteStorage", c10::ScalarType::Byte},     {"torch.BoolStorage", c10::ScalarType::Bool},
  };
  return types;
}

bool validUtf8(const char* data, size_t size) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  size_t i = 0;
  while (i < size) {
    const unsigned char c = p[i];
    size_t extra = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (size - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i + k] & 0x3F);
    }
    static const uint32_t minimum[] = {0, 0x80, 0x800, 0x10000};
    if (code < minimum[extra] || code > 0x10FFFF) return false;
    i += extra + 1;
  }
  return true;
}

class Machine {
 public:
  Machine(const char* data, size_t size, const std::string& source, const PickleLimits& limits)
      : data_(reinterpret_cast<const unsigned char*>(data)), size_(size), source_(source), limits_(limits) {}

  PickleDocument run() {
    while (true) {
      opcode_at_ = at_;
      const unsigned char op = take(1)[0];
      if (op == '.') break;
      step(op);
    }
    if (stack_.size() != 1 || !marks_.empty()) {
      refuse("STOP with " + std::to_string(stack_.size()) + " values on the stack (expected exactly one)");
    }
    if (at_ != size_) refuse(std::to_string(size_ - at_) + " bytes follow STOP");
    document_.root = stack_.back();
    return std::move(document_);
  }

 private:
  [[noreturn]] void refuse(const std::string& why) const {
    fail(ErrorCode::InvalidFormat, source_ + ": pickle byte " + std::to_string(opcode_at_) + ": " + why);
  }

  const unsigned char* take(size_t count) {
    if (size_ - at_ < count) refuse("the stream ends early (truncated or damaged; no STOP)");
    const unsigned char* start = data_ + at_;
    at_ += count;
    return start;
  }
  uint64_t takeUnsigned(size_t bytes) {
    const unsigned char* p = take(bytes);
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; ++i) value |= static_cast<uint64_t>(p[i]) << (8 * i);
    return value;
  }
  std::string takeLine() {
    const void* found = std::memchr(data_ + at_, '\n', size_ - at_);
    if (!found) refuse("the stream ends inside a text line");
    const size_t length = static_cast<size_t>(static_cast<const unsigned char*>(found) - (data_ + at_));
    std::string line(reinterpret_cast<const char*>(take(length)), length);
    take(1);
    return line;
  }

  uint32_t add(PickleValue value) {
    if (document_.values.size() >= limits_.max_values) refuse("more than " + std::to_string(limits_.max_values) + " values");
    document_.values.push_back(std::move(value));
    return static_cast<uint32_t>(document_.values.size() - 1);
  }
  uint32_t addScalar(PickleKind kind, int64_t integer = 0) {
    PickleValue value;
    value.kind = kind;
    value.integer = integer;
    return add(std::move(value));
  }
  PickleValue& value(uint32_t index) { return document_.values[index]; }
  const char* kindOf(uint32_t index) { return pickleKindName(value(index).kind); }

  void push(uint32_t index) {
    if (stack_.size() >= limits_.max_stack) refuse("stack deeper than " + std::to_string(limits_.max_stack));
    stack_.push_back(index);
  }
  uint32_t pop(const char* op) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() <= floor) refuse(std::string(op) + " on an empty stack");
    const uint32_t index = stack_.back();
    stack_.pop_back();
    return index;
  }
  uint32_t top(const char* op) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() <= floor) refuse(std::string(op) + " on an empty stack");
    return stack_.back();
  }
  // The values above the last MARK, which is removed.
  std::vector<uint32_t> popMark(const char* op) {
    if (marks_.empty()) refuse(std::string(op) + " without a MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }

  void memoPut(uint64_t index) {
    if (index >= limits_.max_memo) {
      refuse("memo index " + std::to_string(index) + " exceeds the limit of " + std::to_string(limits_.max_memo));
    }
    memo_[static_cast<uint32_t>(index)] = top("PUT");
  }
  void memoGet(uint64_t index) {
    auto found = memo_.find(index < limits_.max_memo ? static_cast<uint32_t>(index) : UINT32_MAX);
    if (found == memo_.end()) refuse("memo index " + std::to_string(index) + " was never stored");
    push(found->second);
  }

  uint32_t makeSequence(PickleKind kind, std::vector<uint32_t> items) {
    PickleValue sequence;
    sequence.kind = kind;
    if (kind == PickleKind::Tuple) {
      // A tuple's hashability is fixed when it is made (kinds never change): remembered so checks never recurse.
      for (uint32_t item : items) {
        if (!hashable(item)) sequence.integer = 1;
      }
    }
    sequence.items = std::move(items);
    return add(std::move(sequence));
  }

  bool hashable(uint32_t index) {
    switch (value(index).kind) {
      case PickleKind::List:
      case PickleKind::Dict: return false;
      case PickleKind::Tuple: return value(index).integer == 0;
      default: return true;
    }
  }

  void setItems(uint32_t target, const std::vector<uint32_t>& pairs, const char* op) {
    if (value(target).kind != PickleKind::Dict) {
      refuse(std::string(op) + " on a " + kindOf(target) + " (item assignment is allowed only into dicts)");
    }
    if (pairs.size() % 2 != 0) refuse(std::string(op) + " with an odd number of items");
    for (size_t i = 0; i < pairs.size(); i += 2) {
      if (!hashable(pairs[i])) refuse(std::string(op) + " with an unhashable " + kindOf(pairs[i]) + " key");
    }
    auto& items = value(target).items;
    items.insert(items.end(), pairs.begin(), pairs.end());
  }

  void appendItems(uint32_t target, const std::vector<uint32_t>& items, const char* op) {
    if (value(target).kind != PickleKind::List) refuse(std::string(op) + " on a " + kindOf(target) + " (only lists are appended to)");
    auto& list = value(target).items;
    list.insert(list.end(), items.begin(), items.end());
  }

  void pushGlobal(const std::string& module, const std::string& name) {
    const std::string qualified = module + "." + name;
    std::string shown;
    for (unsigned char c : qualified) shown += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    if (!isAllowedPickleGlobal(qualified)) {
      refuse("forbidden global \"" + shown + "\" (a checkpoint may only name OrderedDict, torch's tensor rebuild "
             "functions and storage types; nothing was executed)");
    }
    PickleValue global;
    global.kind = PickleKind::Global;
    global.text = qualified;
    push(add(std::move(global)));
  }

  const std::string& stringOf(uint32_t index, const char* what) {
    if (value(index).kind != PickleKind::String) refuse(std::string(what) + " must be a string, not a " + kindOf(index));
    return value(index).text;
  }
  int64_t intOf(uint32_t index, const char* what) {
    if (value(index).kind != PickleKind::Int) refuse(std::string(what) + " must be an integer, not a " + kindOf(index));
    return value(index).integer;
  }
  std::vector<int64_t> intTupleOf(uint32_t index, const char* what) {
    if (value(index).kind != PickleKind::Tuple) refuse(std::string(what) + " must be a tuple, not a " + kindOf(index));
    std::vector<int64_t> numbers;
    for (uint32_t item : value(index).items) {
      const int64_t number = intOf(item, what);
      if (number < 0) refuse(std::string(what) + " has a negative entry");
      numbers.push_back(number);
    }
    return numbers;
  }

  uint32_t persistentLoad(uint32_t pid) {
    const PickleValue& id = value(pid);
    if (id.kind != PickleKind::Tuple || id.items.size() != 5) refuse("a persistent id must be a 5-tuple ('storage', type, key, location, size)");
    const std::vector<uint32_t> parts = id.items;
    if (stringOf(parts[0], "the persistent id's tag") != "storage") refuse("persistent id tag \"" + value(parts[0]).text + "\" (only 'storage')");
    if (value(parts[1]).kind != PickleKind::Global) refuse("a persistent id's storage type must be a global");
    const std::string& type = value(parts[1]).text;
    PickleValue storage;
    storage.kind = PickleKind::Storage;
    bool known = false;
    for (const auto& [name, dtype] : storageTypes()) {
      if (name == type) {
        storage.dtype = dtype;
        known = true;
      }
    }
    if (!known) refuse("\"" + type + "\" is not a storage type");
    storage.text = stringOf(parts[2], "a storage key");
    if (storage.text.empty() || storage.text.size() > 64) refuse("a storage key must have 1 to 64 characters");
    for (char c : storage.text) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') refuse("storage key \"" + storage.text + "\" has characters other than letters, digits and _");
    }
    stringOf(parts[3], "a storage location");
    storage.integer = intOf(parts[4], "a storage size");
    if (storage.integer < 0) refuse("storage \"" + storage.text + "\" has a negative size");
    // One key is one storage: later references must agree with the first.
    auto known_storage = storages_.find(storage.text);
    if (known_storage != storages_.end()) {
      const PickleValue& first = value(known_storage->second);
      if (first.dtype != storage.dtype || first.integer != storage.integer) refuse("storage \"" + storage.text + "\" is described twice differently");
      return known_storage->second;
    }
    const uint32_t index = add(std::move(storage));
    storages_[value(index).text] = index;
    return index;
  }

  uint32_t rebuildTensor(const std::vector<uint32_t>& args, const std::string& function) {
    if (value(args[0]).kind != PickleKind::Storage) refuse(function + ": the first argument must be a storage, not a " + kindOf(args[0]));
    PickleValue tensor;
    tensor.kind = PickleKind::Tensor;
    tensor.storage = args[0];
    tensor.integer = intOf(args[1], "a storage offset");
    if (tensor.integer < 0) refuse(function + ": negative storage offset");
    tensor.sizes = intTupleOf(args[2], "a tensor size");
    tensor.strides = intTupleOf(args[3], "a tensor stride");
    if (tensor.sizes.size() != tensor.strides.size()) refuse(function + ": size and stride differ in length");
    if (tensor.sizes.size() > 64) refuse(function + ": more than 64 dimensions");
    return add(std::move(tensor));
  }

  // What an allow-listed callable would return, recorded without calling anything.
  uint32_t reduce(uint32_t callable, uint32_t arguments) {
    if (value(callable).kind != PickleKind::Global) refuse(std::string("REDUCE on a ") + kindOf(callable) + " (only allow-listed globals are called)");
    if (value(arguments).kind != PickleKind::Tuple) refuse(std::string("REDUCE arguments must be a tuple, not a ") + kindOf(arguments));
    const std::string function = value(callable).text;
    const std::vector<uint32_t> args = value(arguments).items;
    auto requireCount = [&](size_t low, size_t high) {
      if (args.size() < low || args.size() > high) {
        refuse(function + " with " + std::to_string(args.size()) + " arguments (expected " + std::to_string(low) +
               (high != low ? " to " + std::to_string(high) : "") + ")");
      }
    };
    if (function == "collections.OrderedDict") {
      requireCount(0, 0);
      return makeSequence(PickleKind::Dict, {});
    }
    if (function == "torch._utils._rebuild_tensor_v2") {
      requireCount(6, 7);  // storage, offset, size, stride, requires_grad, backward_hooks[, metadata]
      if (value(args[5]).kind != PickleKind::Dict) refuse(function + ": backward_hooks must be a dict");
      return rebuildTensor(args, function);
    }
    if (function == "torch._utils._rebuild_tensor") {
      requireCount(4, 4);
      return rebuildTensor(args, function);
    }
    if (function == "torch._utils._rebuild_parameter" || function == "torch._utils._rebuild_parameter_with_state") {
      requireCount(3, function == "torch._utils._rebuild_parameter" ? 3 : 4);
      if (value(args[0]).kind != PickleKind::Tensor) refuse(function + ": the first argument must be a tensor, not a " + kindOf(args[0]));
      return args[0];  // a parameter is its tensor
    }
    if (function == "torch.Size") {
      requireCount(1, 1);
      intTupleOf(args[0], "torch.Size's argument");
      return args[0];
    }
    refuse("REDUCE on \"" + function + "\" (not callable)");
  }

  void step(unsigned char op) {
    switch (op) {
      case 0x80: {  // PROTO
        const unsigned protocol = take(1)[0];
        if (protocol < 2 || protocol > 5) refuse("pickle protocol " + std::to_string(protocol) + " (2 to 5 are read)");
        return;
      }
      case 0x95: take(8); return;  // FRAME: a length hint only
      case '(':
        if (marks_.size() >= limits_.max_mark_depth) refuse("MARKs nested deeper than " + std::to_string(limits_.max_mark_depth));
        marks_.push_back(stack_.size());
        return;
      case '0': pop("POP"); return;
      case '1': popMark("POP_MARK"); return;
      case '2': push(top("DUP")); return;
      case 'N': push(addScalar(PickleKind::None)); return;
      case 0x88: push(addScalar(PickleKind::Bool, 1)); return;
      case 0x89: push(addScalar(PickleKind::Bool, 0)); return;
      case 'J': {
        const uint32_t raw = static_cast<uint32_t>(takeUnsigned(4));
        push(addScalar(PickleKind::Int, static_cast<int32_t>(raw)));
        return;
      }
      case 'K': push(addScalar(PickleKind::Int, static_cast<int64_t>(takeUnsigned(1)))); return;
      case 'M': push(addScalar(PickleKind::Int, static_cast<int64_t>(takeUnsigned(2)))); return;
      case 0x8a: {  // LONG1: little-endian two's complement of n bytes
        const size_t length = take(1)[0];
        if (length > 8) refuse("LONG1 of " + std::to_string(length) + " bytes (integers beyond 64 bits are not read)");
        uint64_t raw = takeUnsigned(length);
        if (length > 0 && length < 8 && (raw >> (8 * length - 1)) & 1) raw |= ~uint64_t{0} << (8 * length);
        push(addScalar(PickleKind::Int, static_cast<int64_t>(raw)));
        return;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const unsigned char* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
        PickleValue number;
        number.kind = PickleKind::Float;
        std::memcpy(&number.real, &bits, 8);
        push(add(std::move(number)));
        return;
      }
      case 0x8c: pushText(PickleKind::String, takeUnsigned(1)); return;
      case 'X': pushText(PickleKind::String, takeUnsigned(4)); return;
      case 0x8d: pushText(PickleKind::String, takeUnsigned(8)); return;
      case 'C': pushText(PickleKind::Bytes, takeUnsigned(1)); return;
      case 'B': pushText(PickleKind::Bytes, takeUnsigned(4)); return;
      case 0x8e: pushText(PickleKind::Bytes, takeUnsigned(8)); return;
      case ')': push(makeSequence(PickleKind::Tuple, {})); return;
      case ']': push(makeSequence(PickleKind::List, {})); return;
      case '}': push(makeSequence(PickleKind::Dict, {})); return;
      case 0x85:
      case 0x86:
      case 0x87: {
        const size_t count = op - 0x84u;
        std::vector<uint32_t> items(count);
        for (size_t i = count; i > 0; --i) items[i - 1] = pop(opcodeName(op));
        push(makeSequence(PickleKind::Tuple, std::move(items)));
        return;
      }
      case 't': push(makeSequence(PickleKind::Tuple, popMark("TUPLE"))); return;
      case 'l': push(makeSequence(PickleKind::List, popMark("LIST"))); return;
      case 'd': {
        const std::vector<uint32_t> items = popMark("DICT");
        const uint32_t dict = makeSequence(PickleKind::Dict, {});
        setItems(dict, items, "DICT");
        push(dict);
        return;
      }
      case 's': {
        const uint32_t item = pop("SETITEM");
        const uint32_t key = pop("SETITEM");
        setItems(top("SETITEM"), {key, item}, "SETITEM");
        return;
      }
      case 'u': {
        const std::vector<uint32_t> items = popMark("SETITEMS");
        setItems(top("SETITEMS"), items, "SETITEMS");
        return;
      }
      case 'a': {
        const uint32_t item = pop("APPEND");
        appendItems(top("APPEND"), {item}, "APPEND");
        return;
      }
      case 'e': {
        const std::vector<uint32_t> items = popMark("APPENDS");
        appendItems(top("APPENDS"), items, "APPENDS");
        return;
      }
      case 'q': memoPut(takeUnsigned(1)); return;
      case 'r': memoPut(takeUnsigned(4)); return;
      case 0x94: memoPut(memo_.size()); return;
      case 'h': memoGet(takeUnsigned(1)); return;
      case 'j': memoGet(takeUnsigned(4)); return;
      case 'c': {
        const std::string module = takeLine();
        const std::string name = takeLine();
        pushGlobal(module, name);
        return;
      }
      case 0x93: {
        const uint32_t name = pop("STACK_GLOBAL");
        const uint32_t module = pop("STACK_GLOBAL");
        pushGlobal(stringOf(module, "STACK_GLOBAL's module"), stringOf(name, "STACK_GLOBAL's name"));
        return;
      }
      case 'R': {
        const uint32_t arguments = pop("REDUCE");
        const uint32_t callable = pop("REDUCE");
        push(reduce(callable, arguments));
        return;
      }
      case 'Q': push(persistentLoad(pop("BINPERSID"))); return;
      case 'b': {
        const uint32_t state = pop("BUILD");
        const uint32_t target = top("BUILD");
        // OrderedDict carries its attributes (state_dict's _metadata) as BUILD state: accepted and dropped.
        if (value(target).kind != PickleKind::Dict) refuse(std::string("BUILD on a ") + kindOf(target) + " (only dict state is accepted)");
        if (value(state).kind != PickleKind::Dict && value(state).kind != PickleKind::None) {
          refuse(std::string("BUILD with a ") + kindOf(state) + " state (only a dict)");
        }
        return;
      }
      default: {
        const char* name = opcodeName(op);
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", op);
        refuse(std::string("opcode ") + (name ? name : "unknown") + " (" + hex + ") is not allowed");
      }
    }
  }

  void pushText(PickleKind kind, uint64_t length) {
    if (length > size_ - at_) refuse("a string of " + std::to_string(length) + " bytes runs past the end of the stream");
    PickleValue text;
    text.kind = kind;
    const unsigned char* start = take(static_cast<size_t>(length));
    text.text.assign(reinterpret_cast<const char*>(start), static_cast<size_t>(length));
    if (kind == PickleKind::String && !validUtf8(text.text.data(), text.text.size())) refuse("a string is not valid UTF-8");
    push(add(std::move(text)));
  }

  const unsigned char* data_;
  size_t size_;
  size_t at_ = 0;
  size_t opcode_at_ = 0;
  const std::string& source_;
  PickleLimits limits_;
  PickleDocument document_;
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, uint32_t> memo_;
  std::unordered_map<std::string, uint32_t> storages_;
};

}  // namespace

const char* pickleKindName(PickleKind kind) {
  switch (kind) {
    case PickleKind::None: return "None";
    case PickleKind::Bool: return "bool";
    case PickleKind::Int: return "int";
    case PickleKind::Float: return "float";
    case PickleKind::String: return "string";
    case PickleKind::Bytes: return "bytes";
    case PickleKind::Tuple: return "tuple";
    case PickleKind::List: return "list";
    case PickleKind::Dict: return "dict";
    case PickleKind::Global: return "global";
    case PickleKind::Storage: return "storage";
    case PickleKind::Tensor: return "tensor";
  }
  return "value";
}

const std::vector<std::string>& allowedPickleGlobals() {
  static const std::vector<std::string> globals = [] {
    std::vector<std::string> names = {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch.Size",
    };
    for (const auto& [name, dtype] : storageTypes()) names.push_back(name);
    return names;
  }();
  return globals;
}

bool isAllowedPickleGlobal(const std::string& qualified_name) {
  for (const auto& name : allowedPickleGlobals()) {
    if (name == qualified_name) return true;
  }
  return false;
}

PickleDocument parseTorchPickle(const char* data, size_t size, const std::string& source, const PickleLimits& limits) {
  return Machine(data, size, source, limits).run();
}

}  // namespace gesso::io
