// PNG text chunks: reading (tEXt, zTXt, iTXt) and inserting (see png_text.h). The layout of a chunk is
// length (4 bytes, big-endian) | type (4 letters) | data | CRC-32 over type and data.
#include "gesso/image/png_text.h"

#include "util/utf8.h"

#include "gesso/error.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>

namespace gesso::image {

namespace {

constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
constexpr uint32_t kMaxChunkLength = 0x7fffffffu;  // the PNG specification's limit

uint32_t readBigEndian32(const char* bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes);
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

void appendBigEndian32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

bool isChunkType(std::string_view type) {
  return type.size() == 4 && std::all_of(type.begin(), type.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
         });
}

bool isTextChunk(std::string_view type) { return type == "tEXt" || type == "zTXt" || type == "iTXt"; }

std::string latin1ToUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xc0 | (byte >> 6)));
      out.push_back(static_cast<char>(0x80 | (byte & 0x3f)));
    }
  }
  return out;
}

// tEXt/zTXt are Latin-1 by the specification, but many writers put UTF-8 there: keep text that is valid UTF-8.
std::string decodeLatin1Text(std::string_view text) { return util::isValidUtf8(text) ? std::string(text) : latin1ToUtf8(text); }

std::string inflateText(std::string_view compressed, const std::string& where) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) fail(ErrorCode::Internal, where + ": zlib inflateInit failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buffer[16384];
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      inflateEnd(&stream);
      fail(ErrorCode::InvalidFormat, where + ": compressed text is corrupt or truncated (zlib status " + std::to_string(status) + ")");
    }
    out.append(buffer, sizeof buffer - stream.avail_out);
    if (out.size() > kMaxTextChunkBytes) {
      inflateEnd(&stream);
      fail(ErrorCode::InvalidFormat, where + ": compressed text expands to more than " + std::to_string(kMaxTextChunkBytes) + " bytes");
    }
  }
  inflateEnd(&stream);
  return out;
}

// Splits at the first NUL at or after `from`; fails when there is none.
size_t findNul(std::string_view data, size_t from, const std::string& where, const char* field) {
  const size_t nul = data.find('\0', from);
  if (nul == std::string_view::npos) fail(ErrorCode::InvalidFormat, where + ": the " + std::string(field) + " is not NUL-terminated");
  return nul;
}

PngTextChunk decodeTextChunk(std::string_view type, std::string_view data, const std::string& where) {
  const size_t keyword_end = findNul(data, 0, where, "keyword");
  if (keyword_end == 0 || keyword_end > 79) {
    fail(ErrorCode::InvalidFormat, where + ": keyword length " + std::to_string(keyword_end) + " is outside 1-79");
  }
  PngTextChunk chunk;
  chunk.keyword = latin1ToUtf8(data.substr(0, keyword_end));
  const std::string_view rest = data.substr(keyword_end + 1);
  if (type == "tEXt") {
    chunk.text = decodeLatin1Text(rest);
  } else if (type == "zTXt") {
    if (rest.empty() || rest[0] != 0) fail(ErrorCode::InvalidFormat, where + ": unknown compression method");
    chunk.text = decodeLatin1Text(inflateText(rest.substr(1), where));
  } else {  // iTXt: compression flag, method, language tag\0, translated keyword\0, UTF-8 text
    if (rest.size() < 2) fail(ErrorCode::InvalidFormat, where + ": the compression fields are missing");
    const char flag = rest[0];
    const char method = rest[1];
    const size_t language_end = findNul(rest, 2, where, "language tag");
    const size_t translated_end = findNul(rest, language_end + 1, where, "translated keyword");
    const std::string_view text = rest.substr(translated_end + 1);
    if (flag == 0) {
      chunk.text = std::string(text);
    } else if (flag == 1 && method == 0) {
      chunk.text = inflateText(text, where);
    } else {
      fail(ErrorCode::InvalidFormat, where + ": unknown compression flag " + std::to_string(int(flag)) + " / method " +
                                         std::to_string(int(method)));
    }
  }
  return chunk;
}

std::string chunkPlace(const std::string& source, std::string_view type, uint64_t offset) {
  return source + ": " + std::string(type) + " chunk at byte " + std::to_string(offset);
}

// One chunk header read from bytes or a file; fails on anything that cannot be a chunk.
struct ChunkHeader {
  uint32_t length = 0;
  std::string type;
};

ChunkHeader parseHeader(const char* header, uint64_t offset, uint64_t total_size, const std::string& source) {
  ChunkHeader chunk;
  chunk.length = readBigEndian32(header);
  chunk.type.assign(header + 4, 4);
  if (!isChunkType(chunk.type)) {
    fail(ErrorCode::InvalidFormat, source + ": byte " + std::to_string(offset) + " does not start a PNG chunk (corrupt file)");
  }
  if (chunk.length > kMaxChunkLength) {
    fail(ErrorCode::InvalidFormat, chunkPlace(source, chunk.type, offset) + " claims " + std::to_string(chunk.length) + " bytes");
  }
  if (offset + 12 + uint64_t(chunk.length) > total_size) {
    fail(ErrorCode::InvalidFormat, chunkPlace(source, chunk.type, offset) + " runs past the end of the file (truncated)");
  }
  return chunk;
}

void checkCrc(std::string_view type, std::string_view data, const char* stored, const std::string& where) {
  if (pngCrc(type, data) != readBigEndian32(stored)) fail(ErrorCode::InvalidFormat, where + ": CRC mismatch (corrupt file)");
}

void checkSignature(std::string_view first_bytes, const std::string& source) {
  if (first_bytes.size() < kSignature.size() || first_bytes.substr(0, kSignature.size()) != kSignature) {
    fail(ErrorCode::InvalidFormat, source + ": not a PNG file (no PNG signature)");
  }
}

void appendChunk(std::string& out, std::string_view type, std::string_view data) {
  appendBigEndian32(out, static_cast<uint32_t>(data.size()));
  out.append(type);
  out.append(data);
  appendBigEndian32(out, static_cast<uint32_t>(pngCrc(type, data)));
}

void checkKeyword(const std::string& keyword) {
  const bool printable = std::all_of(keyword.begin(), keyword.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (keyword.empty() || keyword.size() > 79 || !printable || keyword.front() == ' ' || keyword.back() == ' ' ||
      keyword.find("  ") != std::string::npos) {
    fail(ErrorCode::InvalidArgument, "PNG text keyword \"" + keyword + "\": expected 1-79 printable ASCII characters without leading, "
                                                                   "trailing or double spaces");
  }
}

std::string encodeTextChunk(const PngTextChunk& chunk, std::string& type) {
  checkKeyword(chunk.keyword);
  if (chunk.text.find('\0') != std::string::npos) {
    fail(ErrorCode::InvalidArgument, "PNG text \"" + chunk.keyword + "\" contains a NUL character");
  }
  const bool ascii = std::all_of(chunk.text.begin(), chunk.text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  std::string data = chunk.keyword;
  data.push_back('\0');
  if (ascii) {
    type = "tEXt";
  } else {
    if (!util::isValidUtf8(chunk.text)) fail(ErrorCode::InvalidArgument, "PNG text \"" + chunk.keyword + "\" is not valid UTF-8");
    type = "iTXt";
    data.append(std::string("\0\0\0\0", 4));  // uncompressed, method 0, no language tag, no translated keyword
  }
  data.append(chunk.text);
  return data;
}

}  // namespace

unsigned long pngCrc(std::string_view type, std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(type.data()), static_cast<uInt>(type.size()));
  // zlib takes uInt lengths; feed large data in pieces.
  size_t offset = 0;
  while (offset < data.size()) {
    const size_t piece = std::min<size_t>(data.size() - offset, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + offset), static_cast<uInt>(piece));
    offset += piece;
  }
  return crc;
}

std::vector<PngTextChunk> parsePngTextChunks(std::string_view png) {
  const std::string source = "PNG data";
  checkSignature(png, source);
  std::vector<PngTextChunk> chunks;
  uint64_t offset = kSignature.size();
  while (true) {
    if (offset + 8 > png.size()) fail(ErrorCode::InvalidFormat, source + ": ends before the IEND chunk (truncated)");
    const ChunkHeader header = parseHeader(png.data() + offset, offset, png.size(), source);
    const std::string_view data = png.substr(offset + 8, header.length);
    if (isTextChunk(header.type)) {
      const std::string where = chunkPlace(source, header.type, offset);
      checkCrc(header.type, data, png.data() + offset + 8 + header.length, where);
      chunks.push_back(decodeTextChunk(header.type, data, where));
    }
    if (header.type == "IEND") break;
    offset += 12 + uint64_t(header.length);
  }
  return chunks;
}

std::vector<PngTextChunk> readPngTextChunks(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) fail(ErrorCode::FileNotFound, path + ": no such file");
  if (!S_ISREG(status.st_mode)) fail(ErrorCode::InvalidArgument, path + ": not a regular file");
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) fail(ErrorCode::FileNotFound, path + ": cannot open");
  const uint64_t size = static_cast<uint64_t>(file.tellg());
  file.seekg(0);
  char signature[8] = {};
  file.read(signature, sizeof signature);
  checkSignature(std::string_view(signature, static_cast<size_t>(file.gcount())), path);
  // Only text chunks are read; image data is skipped with seeks.
  std::vector<PngTextChunk> chunks;
  uint64_t offset = kSignature.size();
  while (true) {
    if (offset + 8 > size) fail(ErrorCode::InvalidFormat, path + ": ends before the IEND chunk (truncated)");
    char header_bytes[8];
    file.seekg(static_cast<std::streamoff>(offset));
    if (!file.read(header_bytes, sizeof header_bytes)) fail(ErrorCode::IoError, path + ": read failed at byte " + std::to_string(offset));
    const ChunkHeader header = parseHeader(header_bytes, offset, size, path);
    if (isTextChunk(header.type)) {
      const std::string where = chunkPlace(path, header.type, offset);
      if (header.length > kMaxTextChunkBytes) fail(ErrorCode::InvalidFormat, where + ": text chunk larger than " + std::to_string(kMaxTextChunkBytes) + " bytes");
      std::string data(header.length + 4, '\0');
      if (!file.read(data.data(), static_cast<std::streamsize>(data.size()))) fail(ErrorCode::IoError, where + ": read failed");
      const std::string_view payload(data.data(), header.length);
      checkCrc(header.type, payload, data.data() + header.length, where);
      chunks.push_back(decodeTextChunk(header.type, payload, where));
    }
    if (header.type == "IEND") break;
    offset += 12 + uint64_t(header.length);
  }
  return chunks;
}

const PngTextChunk* findTextChunk(const std::vector<PngTextChunk>& chunks, std::string_view keyword) {
  for (const PngTextChunk& chunk : chunks) {
    if (chunk.keyword == keyword) return &chunk;
  }
  return nullptr;
}

std::string insertPngTextChunks(std::string_view png, const std::vector<PngTextChunk>& new_chunks) {
  const std::string source = "PNG data";
  checkSignature(png, source);
  std::string inserted;
  std::set<std::string> replaced;
  for (const PngTextChunk& chunk : new_chunks) {
    std::string type;
    const std::string data = encodeTextChunk(chunk, type);
    appendChunk(inserted, type, data);
    replaced.insert(chunk.keyword);
  }
  std::string out(kSignature);
  out.reserve(png.size() + inserted.size());
  bool placed = false;
  bool ended = false;
  uint64_t offset = kSignature.size();
  while (!ended) {
    if (offset + 8 > png.size()) fail(ErrorCode::InvalidFormat, source + ": ends before the IEND chunk (truncated)");
    const ChunkHeader header = parseHeader(png.data() + offset, offset, png.size(), source);
    const std::string_view whole = png.substr(offset, 12 + uint64_t(header.length));
    if (header.type == "IDAT" && !placed) {
      out += inserted;
      placed = true;
    }
    bool keep = true;
    if (isTextChunk(header.type)) {
      const std::string_view data = whole.substr(8, header.length);
      const size_t nul = data.find('\0');
      keep = nul == std::string_view::npos || !replaced.count(std::string(data.substr(0, nul)));
    }
    if (keep) out.append(whole);
    ended = header.type == "IEND";
    offset += whole.size();
  }
  if (!placed) fail(ErrorCode::InvalidFormat, source + ": has no IDAT chunk");
  return out;
}

}  // namespace gesso::image
