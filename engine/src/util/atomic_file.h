// A file written under a temporary name in the target's folder, flushed to disk, then renamed over the target:
// readers see the old file or the complete new one, never a half-written one. The temporary file is hidden:
// DIR/.NAME.tmp-XXXXXX. Tests simulate a full disk with GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES=N: writes fail
// (IoError, ENOSPC) once the process has written N bytes through AtomicFile.
#pragma once

#include <cstddef>
#include <string>

namespace gesso {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // throws GessoError(IoError)
  ~AtomicFile();                          // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void commit();  // fsync, rename over the target, fsync the folder

 private:
  std::string path_;
  std::string temporary_path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Copies `from` to `to` through an AtomicFile (the copy is complete or absent); FileNotFound naming `from` when it
// cannot be read.
void copyFileAtomically(const std::string& from, const std::string& to);

}  // namespace gesso
