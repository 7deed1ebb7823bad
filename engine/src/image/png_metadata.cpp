// Generation metadata in PNG text chunks (see png_metadata.h).
#include "gesso/image/png_metadata.h"

#include "gesso/error.h"

#include <nlohmann/json.hpp>

namespace gesso::image {

namespace {
PngGenerationMetadata fromChunks(const std::vector<PngTextChunk>& chunks) {
  PngGenerationMetadata metadata;
  if (const PngTextChunk* request = findTextChunk(chunks, kRequestKeyword)) metadata.request_json = request->text;
  if (const PngTextChunk* parameters = findTextChunk(chunks, kParametersKeyword)) {
    metadata.parameters_text = parameters->text;
    metadata.parameters = parseA1111Parameters(parameters->text);
  }
  return metadata;
}
}  // namespace

std::vector<PngTextChunk> generationTextChunks(const GenerationParameters& parameters, const std::string& request_json) {
  std::vector<PngTextChunk> chunks{{kParametersKeyword, formatA1111Parameters(parameters)}};
  if (!request_json.empty()) {
    if (!nlohmann::json::accept(request_json)) {
      fail(ErrorCode::InvalidArgument, "the request to store in the PNG's \"" + std::string(kRequestKeyword) + "\" chunk is not valid JSON");
    }
    chunks.push_back({kRequestKeyword, request_json});
  }
  return chunks;
}

PngGenerationMetadata readPngGenerationMetadata(const std::string& path) { return fromChunks(readPngTextChunks(path)); }

PngGenerationMetadata parsePngGenerationMetadata(std::string_view png_bytes) { return fromChunks(parsePngTextChunks(png_bytes)); }

}  // namespace gesso::image
