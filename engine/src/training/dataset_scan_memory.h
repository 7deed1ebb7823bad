// What a dataset scan remembers between runs (DatasetOptions::scan_memory_file): each usable image's size and hashes
// keyed by its path, byte size and modification time, so a rescan decodes only new or changed files.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace gesso::training {

struct FileStamp {
  int64_t bytes = -1;  // -1: no such file
  int64_t modified_ns = 0;
  bool operator==(const FileStamp& other) const { return bytes == other.bytes && modified_ns == other.modified_ns; }
};

FileStamp stampOf(const std::string& path);

struct RememberedImage {
  FileStamp image;
  std::string mask_path;  // empty: none
  FileStamp mask;
  int64_t width = 0, height = 0;  // upright
  std::string content_hash, mask_hash;
};

// Reads the file; a missing one is empty, a damaged one is empty with a warning (everything is decoded again).
std::map<std::string, RememberedImage> readScanMemory(const std::string& path);
// Written atomically; throws GessoError(IoError) naming the file.
void writeScanMemory(const std::string& path, const std::map<std::string, RememberedImage>& images);

}  // namespace gesso::training
