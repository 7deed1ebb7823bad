// A small, strict zip reader for PyTorch's checkpoint archives: central directory (zip64 included), stored and
// deflated entries, CRC checked, names validated (no "..", no absolute paths, no duplicates). Nothing is extracted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace gesso::io {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;          // 0: stored, 8: deflated (the only two read)
  uint16_t flags = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;            // uncompressed
  uint64_t local_header_offset = 0;
};

class ZipReader {
 public:
  // Reads and validates the central directory of a file (or of bytes in memory, for tests and fuzzing; `source`
  // names it in errors). Throws GessoError (FileNotFound, IoError, InvalidFormat) naming the file and the entry.
  static std::unique_ptr<ZipReader> open(const std::string& path);
  static std::unique_ptr<ZipReader> fromMemory(std::string bytes, const std::string& source);

  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::string& source() const { return source_; }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;

  // The whole uncompressed entry into `destination` (exactly entry.size bytes), CRC checked.
  void read(const ZipEntry& entry, void* destination) const;
  std::string readString(const ZipEntry& entry) const;

 private:
  ZipReader() = default;
  void readAt(uint64_t offset, void* destination, uint64_t length) const;
  void parseCentralDirectory();
  uint64_t dataOffset(const ZipEntry& entry) const;

  std::string source_;
  uint64_t size_ = 0;
  int fd_ = -1;
  std::string memory_;  // the bytes when opened fromMemory
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in entries_
};

// Throws InvalidFormat unless `name` is a safe relative path: not empty, no leading '/', no '\\', no NUL, no
// empty, "." or ".." segment.
void validateEntryName(const std::string& name, const std::string& source);

}  // namespace gesso::io
