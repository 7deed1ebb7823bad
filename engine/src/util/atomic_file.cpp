// See atomic_file.h.
#include "util/atomic_file.h"

#include "gesso/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace gesso {

namespace {
std::string folderOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// DIR/.NAME.tmp-XXXXXX: hidden, and not named like the target's type, so a file left by a kill is never taken for
// an image or a checkpoint.
std::string temporaryPattern(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const size_t name_start = slash == std::string::npos ? 0 : slash + 1;
  return path.substr(0, name_start) + "." + path.substr(name_start) + ".tmp-XXXXXX";
}

// Fault injection for tests: GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES=N makes AtomicFile writes fail with ENOSPC
// once this process has written N bytes through them (a full disk in the middle of a save).
int64_t injectedWriteLimit() {
  static const int64_t limit = [] {
    const char* text = std::getenv("GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES");
    return text && *text ? std::strtoll(text, nullptr, 10) : int64_t{-1};
  }();
  return limit;
}
std::atomic<int64_t> g_bytes_written{0};
}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  std::string pattern = temporaryPattern(path_);
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  fd_ = ::mkstemp(buffer.data());
  if (fd_ < 0) fail(ErrorCode::IoError, path_ + ": cannot create a temporary file (" + std::strerror(errno) + ")");
  temporary_path_ = buffer.data();
  ::fchmod(fd_, 0644);  // mkstemp creates 0600; the result is an ordinary user file
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temporary_path_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  const int64_t limit = injectedWriteLimit();
  while (size > 0) {
    size_t chunk = size;
    if (limit >= 0) {
      const int64_t allowed = std::max<int64_t>(0, limit - g_bytes_written.load());
      if (allowed == 0) {
        fail(ErrorCode::IoError, path_ + ": write failed (" + std::strerror(ENOSPC) +
                                     "; injected by GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES)");
      }
      chunk = std::min<size_t>(chunk, static_cast<size_t>(allowed));
    }
    const ssize_t written = ::write(fd_, bytes, chunk);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail(ErrorCode::IoError, path_ + ": write failed (" + std::strerror(errno) + ")");
    }
    bytes += written;
    size -= static_cast<size_t>(written);
    g_bytes_written += written;
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail(ErrorCode::IoError, path_ + ": flush failed (" + std::strerror(errno) + ")");
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail(ErrorCode::IoError, path_ + ": close failed (" + std::strerror(errno) + ")");
  }
  fd_ = -1;
  if (::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    fail(ErrorCode::IoError, path_ + ": rename failed (" + std::strerror(errno) + ")");
  }
  committed_ = true;
  const int folder = ::open(folderOf(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder >= 0) {
    ::fsync(folder);
    ::close(folder);
  }
}

void copyFileAtomically(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) fail(ErrorCode::FileNotFound, "cannot read '" + from + "'");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string text = bytes.str();
  AtomicFile out(to);
  out.write(text.data(), text.size());
  out.commit();
}

}  // namespace gesso
