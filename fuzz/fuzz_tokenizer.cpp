// libFuzzer: arbitrary bytes as prompt text through the CLIP tokenizer (text cleanup, NFC, lower-casing, BPE) and
// its 77-token windows.
#include "gesso/error.h"
#include "gesso/models/tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gesso::models::ClipTokenizer tokenizer = [] {
    const char* path = std::getenv("GESSO_CLIP_VOCAB");
    return gesso::models::ClipTokenizer::fromOpenAiVocab(path ? path : GESSO_CLIP_VOCAB_DEFAULT);
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    tokenizer.encode(text);
  } catch (const gesso::GessoError&) {
  }
  return 0;
}
