// The zip reader behind the .ckpt loader: only what PyTorch's writer produces (one disk, stored or deflated entries,
// zip64 for large files), every size and offset checked against the file before it is used.
#include "gesso/io/zip_reader.h"

#include "gesso/error.h"

#include <zlib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gesso::io {

namespace {

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64EndLocator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint64_t kMaxEntries = 1000000;
constexpr uint64_t kMaxDeflateRatio = 1032;  // deflate cannot expand more than this

uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t le64(const unsigned char* p) { return static_cast<uint64_t>(le32(p)) | (static_cast<uint64_t>(le32(p + 4)) << 32); }

std::string printable(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace

void validateEntryName(const std::string& name, const std::string& source) {
  auto refuse = [&](const char* why) {
    fail(ErrorCode::InvalidFormat, source + ": zip entry name \"" + printable(name) + "\" " + why);
  };
  if (name.empty()) refuse("is empty");
  if (name.front() == '/') refuse("is an absolute path");
  if (name.find('\\') != std::string::npos) refuse("contains a backslash");
  if (name.find('\0') != std::string::npos) refuse("contains a NUL byte");
  if (name.size() > 1 && name[1] == ':') refuse("starts with a drive letter");
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = name.find('/', begin);
    if (end == std::string::npos) end = name.size();
    const std::string segment = name.substr(begin, end - begin);
    if (segment == "..") refuse("escapes its folder (\"..\")");
    if (segment == ".") refuse("has a \".\" segment");
    if (segment.empty() && end != name.size()) refuse("has an empty segment");
    begin = end + 1;
  }
}

std::unique_ptr<ZipReader> ZipReader::open(const std::string& path) {
  std::unique_ptr<ZipReader> reader(new ZipReader());
  reader->source_ = path;
  reader->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader->fd_ < 0) {
    if (errno == ENOENT) fail(ErrorCode::FileNotFound, "no such file: " + path);
    fail(ErrorCode::IoError, "cannot open " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(reader->fd_, &info) != 0 || !S_ISREG(info.st_mode)) fail(ErrorCode::IoError, path + " is not a regular file");
  reader->size_ = static_cast<uint64_t>(info.st_size);
  reader->parseCentralDirectory();
  return reader;
}

std::unique_ptr<ZipReader> ZipReader::fromMemory(std::string bytes, const std::string& source) {
  std::unique_ptr<ZipReader> reader(new ZipReader());
  reader->source_ = source;
  reader->memory_ = std::move(bytes);
  reader->size_ = reader->memory_.size();
  reader->parseCentralDirectory();
  return reader;
}

ZipReader::~ZipReader() {
  if (fd_ >= 0) ::close(fd_);
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  const auto found = index_.find(name);
  return found == index_.end() ? nullptr : &entries_[found->second];
}

void ZipReader::readAt(uint64_t offset, void* destination, uint64_t length) const {
  if (offset > size_ || length > size_ - offset) {
    fail(ErrorCode::InvalidFormat, source_ + ": truncated zip (needs bytes " + std::to_string(offset) + ".." +
                                       std::to_string(offset + length) + " of " + std::to_string(size_) + ")");
  }
  if (length == 0) return;
  if (fd_ < 0) {
    std::memcpy(destination, memory_.data() + offset, length);
    return;
  }
  auto* out = static_cast<char*>(destination);
  while (length > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(length, 1u << 30));
    const ssize_t got = ::pread(fd_, out, chunk, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail(ErrorCode::IoError, source_ + ": read failed at byte " + std::to_string(offset));
    out += got;
    offset += static_cast<uint64_t>(got);
    length -= static_cast<uint64_t>(got);
  }
}

void ZipReader::parseCentralDirectory() {
  if (size_ < 22) fail(ErrorCode::InvalidFormat, source_ + ": too short to be a zip archive");
  // The end record is the last thing in the file, followed only by a comment of at most 65535 bytes.
  const uint64_t tail_size = std::min<uint64_t>(size_, 22 + 65535);
  std::vector<unsigned char> tail(tail_size);
  readAt(size_ - tail_size, tail.data(), tail_size);
  int64_t end_at = -1;
  for (int64_t i = static_cast<int64_t>(tail_size) - 22; i >= 0; --i) {
    if (le32(&tail[i]) == kEndOfCentralDirectory &&
        static_cast<uint64_t>(i) + 22 + le16(&tail[i + 20]) == tail_size) {
      end_at = i;
      break;
    }
  }
  if (end_at < 0) fail(ErrorCode::InvalidFormat, source_ + ": no zip end-of-central-directory record");
  const unsigned char* end = &tail[static_cast<size_t>(end_at)];
  const uint64_t end_offset = size_ - tail_size + static_cast<uint64_t>(end_at);
  if (le16(end + 4) != 0 || le16(end + 6) != 0) fail(ErrorCode::InvalidFormat, source_ + ": multi-disk zip archives are not read");
  uint64_t count = le16(end + 10);
  uint64_t directory_size = le32(end + 12);
  uint64_t directory_offset = le32(end + 16);
  uint64_t directory_limit = end_offset;

  if (end_offset >= 20) {
    unsigned char locator[20];
    readAt(end_offset - 20, locator, 20);
    if (le32(locator) == kZip64EndLocator) {
      const uint64_t end64_offset = le64(locator + 8);
      unsigned char end64[56];
      if (end64_offset > end_offset - 20 || end_offset - 20 - end64_offset < 56) {
        fail(ErrorCode::InvalidFormat, source_ + ": zip64 end record out of place");
      }
      readAt(end64_offset, end64, 56);
      if (le32(end64) != kZip64End) fail(ErrorCode::InvalidFormat, source_ + ": bad zip64 end record signature");
      if (le32(end64 + 16) != 0 || le32(end64 + 20) != 0) fail(ErrorCode::InvalidFormat, source_ + ": multi-disk zip archives are not read");
      count = le64(end64 + 32);
      directory_size = le64(end64 + 40);
      directory_offset = le64(end64 + 48);
      directory_limit = end64_offset;
    }
  }
  if (directory_offset > directory_limit || directory_size > directory_limit - directory_offset) {
    fail(ErrorCode::InvalidFormat, source_ + ": central directory lies outside the file");
  }
  if (count > kMaxEntries || count * 46 > directory_size) {
    fail(ErrorCode::InvalidFormat, source_ + ": implausible zip entry count " + std::to_string(count));
  }

  std::vector<unsigned char> directory(directory_size);
  readAt(directory_offset, directory.data(), directory_size);
  size_t at = 0;
  for (uint64_t index = 0; index < count; ++index) {
    if (directory_size - at < 46 || le32(&directory[at]) != kCentralHeader) {
      fail(ErrorCode::InvalidFormat, source_ + ": bad central directory header for entry " + std::to_string(index));
    }
    const unsigned char* header = &directory[at];
    ZipEntry entry;
    entry.flags = le16(header + 8);
    entry.method = le16(header + 10);
    entry.crc32 = le32(header + 16);
    entry.compressed_size = le32(header + 20);
    entry.size = le32(header + 24);
    const size_t name_length = le16(header + 28);
    const size_t extra_length = le16(header + 30);
    const size_t comment_length = le16(header + 32);
    const uint16_t disk = le16(header + 34);
    entry.local_header_offset = le32(header + 42);
    if (directory_size - at - 46 < name_length + extra_length + comment_length) {
      fail(ErrorCode::InvalidFormat, source_ + ": central directory entry " + std::to_string(index) + " is truncated");
    }
    entry.name.assign(reinterpret_cast<const char*>(header + 46), name_length);
    // zip64 extra field: the 64-bit values, in order, of the fields saturated in the fixed header.
    const unsigned char* extra = header + 46 + name_length;
    size_t extra_at = 0;
    while (extra_length - extra_at >= 4) {
      const uint16_t id = le16(extra + extra_at);
      const size_t length = le16(extra + extra_at + 2);
      if (extra_length - extra_at - 4 < length) fail(ErrorCode::InvalidFormat, source_ + ": bad extra field in entry " + printable(entry.name));
      if (id == 0x0001) {
        const unsigned char* field = extra + extra_at + 4;
        size_t used = 0;
        auto take = [&](uint64_t& value) {
          if (length - used < 8) fail(ErrorCode::InvalidFormat, source_ + ": short zip64 field in entry " + printable(entry.name));
          value = le64(field + used);
          used += 8;
        };
        if (entry.size == 0xFFFFFFFFu) take(entry.size);
        if (entry.compressed_size == 0xFFFFFFFFu) take(entry.compressed_size);
        if (entry.local_header_offset == 0xFFFFFFFFu) take(entry.local_header_offset);
      }
      extra_at += 4 + length;
    }
    at += 46 + name_length + extra_length + comment_length;

    validateEntryName(entry.name, source_);
    if (!index_.emplace(entry.name, entries_.size()).second) fail(ErrorCode::InvalidFormat, source_ + ": duplicate zip entry \"" + printable(entry.name) + "\"");
    if (disk != 0) fail(ErrorCode::InvalidFormat, source_ + ": entry \"" + printable(entry.name) + "\" lies on another disk");
    if (entry.local_header_offset >= directory_offset) {
      fail(ErrorCode::InvalidFormat, source_ + ": entry \"" + printable(entry.name) + "\" starts outside the data area");
    }
    entries_.push_back(std::move(entry));
  }
}

uint64_t ZipReader::dataOffset(const ZipEntry& entry) const {
  unsigned char header[30];
  readAt(entry.local_header_offset, header, 30);
  if (le32(header) != kLocalHeader) fail(ErrorCode::InvalidFormat, source_ + ": bad local header for \"" + printable(entry.name) + "\"");
  const uint64_t name_length = le16(header + 26);
  const uint64_t extra_length = le16(header + 28);
  std::string local_name(name_length, '\0');
  readAt(entry.local_header_offset + 30, local_name.data(), name_length);
  if (local_name != entry.name) {
    fail(ErrorCode::InvalidFormat, source_ + ": local header names \"" + printable(local_name) + "\" but the directory says \"" +
                                       printable(entry.name) + "\"");
  }
  return entry.local_header_offset + 30 + name_length + extra_length;
}

void ZipReader::read(const ZipEntry& entry, void* destination) const {
  const std::string what = source_ + ": zip entry \"" + printable(entry.name) + "\"";
  if (entry.flags & 0x0041) fail(ErrorCode::InvalidFormat, what + " is encrypted (not supported)");
  const uint64_t offset = dataOffset(entry);
  if (offset > size_ || entry.compressed_size > size_ - offset) fail(ErrorCode::InvalidFormat, what + " runs past the end of the file");
  uint32_t crc = static_cast<uint32_t>(::crc32(0L, Z_NULL, 0));
  auto updateCrc = [&crc](const unsigned char* data, uint64_t length) {
    while (length > 0) {
      const uInt chunk = static_cast<uInt>(std::min<uint64_t>(length, 1u << 30));
      crc = static_cast<uint32_t>(::crc32(crc, data, chunk));
      data += chunk;
      length -= chunk;
    }
  };
  if (entry.method == 0) {
    if (entry.compressed_size != entry.size) fail(ErrorCode::InvalidFormat, what + " is stored with differing sizes");
    readAt(offset, destination, entry.size);
    updateCrc(static_cast<const unsigned char*>(destination), entry.size);
  } else if (entry.method == 8) {
    if (entry.size / kMaxDeflateRatio > entry.compressed_size) fail(ErrorCode::InvalidFormat, what + " claims an impossible size");
    std::vector<unsigned char> packed(entry.compressed_size);
    readAt(offset, packed.data(), packed.size());
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) fail(ErrorCode::Internal, what + ": zlib initialisation failed");
    unsigned char empty_output = 0;  // zlib refuses a null output pointer even for zero bytes
    auto* out = destination ? static_cast<unsigned char*>(destination) : &empty_output;
    uint64_t in_left = packed.size();
    uint64_t out_left = entry.size;
    stream.next_in = packed.data();
    int status = Z_OK;
    while (status == Z_OK) {
      const uInt in_chunk = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
      const uInt out_chunk = static_cast<uInt>(std::min<uint64_t>(out_left, 1u << 30));
      stream.avail_in = in_chunk;
      stream.next_out = out;
      stream.avail_out = out_chunk;
      status = inflate(&stream, Z_NO_FLUSH);
      in_left -= in_chunk - stream.avail_in;
      out += out_chunk - stream.avail_out;
      out_left -= out_chunk - stream.avail_out;
      if (status == Z_BUF_ERROR && out_left == 0) {
        // Output is full but the stream has not ended: it would be longer than declared.
        unsigned char extra_byte = 0;
        stream.next_out = &extra_byte;
        stream.avail_out = 1;
        status = inflate(&stream, Z_NO_FLUSH);
        if (status != Z_STREAM_END || stream.avail_out == 0) status = Z_DATA_ERROR;
      } else if (status == Z_BUF_ERROR && in_left == 0) {
        status = Z_DATA_ERROR;
      } else if (status == Z_BUF_ERROR) {
        status = Z_OK;  // more chunks to feed
      }
    }
    inflateEnd(&stream);
    if (status != Z_STREAM_END || out_left != 0) fail(ErrorCode::InvalidFormat, what + " is not valid deflate data of its declared size");
    updateCrc(static_cast<const unsigned char*>(destination), entry.size);
  } else {
    fail(ErrorCode::InvalidFormat, what + " uses compression method " + std::to_string(entry.method) +
                                       " (only stored and deflated entries are read)");
  }
  if (crc != entry.crc32) fail(ErrorCode::InvalidFormat, what + " fails its CRC check (damaged file)");
}

std::string ZipReader::readString(const ZipEntry& entry) const {
  std::string text(entry.size, '\0');
  read(entry, text.data());
  return text;
}

}  // namespace gesso::io
