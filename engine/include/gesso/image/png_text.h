// PNG text chunks (tEXt, zTXt, iTXt): reading them from a file or from bytes, and inserting them into PNG bytes.
// Pure byte handling with zlib, no image library, so it also serves as a fuzzing target for hostile files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gesso::image {

struct PngTextChunk {
  std::string keyword;  // 1-79 Latin-1 characters, e.g. "parameters"
  std::string text;     // UTF-8
};

// Keywords Gesso writes: AUTOMATIC1111's infotext, and the complete request as JSON.
inline constexpr const char* kParametersKeyword = "parameters";
inline constexpr const char* kRequestKeyword = "gesso";

// Limits against hostile files: decompressed text larger than this is refused.
inline constexpr size_t kMaxTextChunkBytes = 16u * 1024u * 1024u;

// Every text chunk of a PNG, in file order. tEXt and zTXt are Latin-1 and come back as UTF-8 (a tEXt that is
// already valid UTF-8 is kept as is, as many writers put UTF-8 there); compressed text is inflated.
// Throws GessoError(InvalidFormat) naming the file (or "PNG data") and the offending chunk, FileNotFound, IoError.
std::vector<PngTextChunk> readPngTextChunks(const std::string& path);
std::vector<PngTextChunk> parsePngTextChunks(std::string_view png_bytes);

// The text of the first chunk with this keyword, or nullptr.
const PngTextChunk* findTextChunk(const std::vector<PngTextChunk>& chunks, std::string_view keyword);

// `png_bytes` with the chunks inserted just before the first IDAT: tEXt when the text is ASCII, otherwise an
// uncompressed iTXt (UTF-8), which is what PIL, and so AUTOMATIC1111, does. Existing text chunks with the same
// keywords are removed. Throws GessoError(InvalidArgument) for a bad keyword, InvalidFormat for bad PNG bytes.
std::string insertPngTextChunks(std::string_view png_bytes, const std::vector<PngTextChunk>& chunks);

// CRC-32 as PNG uses it (over chunk type and data).
unsigned long pngCrc(std::string_view type, std::string_view data);

}  // namespace gesso::image
