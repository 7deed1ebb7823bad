// SHA-256 (FIPS 180-4) of bytes and of files, for model hashes (AUTOMATIC1111's short hash: the first 10 hex digits
// of the file's SHA-256).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gesso::util {

// Lower-case hex digest (64 characters).
std::string sha256Hex(std::string_view bytes);
// The file read in blocks from byte `offset` to its end (sd-scripts' addnet hash of a LoRA skips the safetensors
// header); throws GessoError(FileNotFound / IoError) naming the file.
std::string sha256FileHex(const std::string& path, uint64_t offset = 0);

}  // namespace gesso::util
