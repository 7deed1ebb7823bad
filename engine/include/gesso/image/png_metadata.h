// Generation metadata in PNG files: AUTOMATIC1111's `parameters` text and Gesso's complete request as JSON
// (the `gesso` chunk). The request's structure belongs to the pipeline; here it is an opaque JSON string.
#pragma once

#include "gesso/image/generation_parameters.h"
#include "gesso/image/png_text.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gesso::image {

struct PngGenerationMetadata {
  std::optional<std::string> request_json;           // the `gesso` chunk, verbatim (Gesso's own images)
  std::optional<std::string> parameters_text;        // the `parameters` chunk as stored (Gesso's or A1111's)
  std::optional<GenerationParameters> parameters;    // parameters_text parsed
};

// The chunks Gesso writes into a generated image: `parameters` (A1111's format) and, unless `request_json` is
// empty, `gesso`. Throws GessoError(InvalidArgument) when request_json is not valid JSON.
std::vector<PngTextChunk> generationTextChunks(const GenerationParameters& parameters, const std::string& request_json);

// Reads the chunks of a PNG file (only text chunks are loaded) or of PNG bytes. A PNG without either chunk gives
// empty fields; a file that is not a PNG gives GessoError(InvalidFormat).
PngGenerationMetadata readPngGenerationMetadata(const std::string& path);
PngGenerationMetadata parsePngGenerationMetadata(std::string_view png_bytes);

}  // namespace gesso::image
