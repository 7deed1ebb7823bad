// libFuzzer: arbitrary bytes as a PNG whose text chunks (tEXt, zTXt, iTXt) are read, then written back.
#include "gesso/error.h"
#include "gesso/image/png_text.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto chunks = gesso::image::parsePngTextChunks(bytes);
    gesso::image::insertPngTextChunks(bytes, {{"parameters", "a cat, (fluffy:1.2)\nSteps: 20"}});
    (void)chunks;
  } catch (const gesso::GessoError&) {
  }
  return 0;
}
