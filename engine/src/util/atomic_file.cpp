// See atomic_file.h.
#include "util/atomic_file.h"

#include "gesso/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace gesso {

namespace {
std::string folderOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  std::string pattern = path_ + ".tmp-XXXXXX";
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
  while (size > 0) {
    const ssize_t written = ::write(fd_, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail(ErrorCode::IoError, path_ + ": write failed (" + std::strerror(errno) + ")");
    }
    bytes += written;
    size -= static_cast<size_t>(written);
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

}  // namespace gesso
