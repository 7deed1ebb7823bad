// libFuzzer: arbitrary text through the prompt parser (extra-network tags, attention brackets, BREAK), every emphasis.
#include "gesso/error.h"
#include "gesso/prompt/prompt_parser.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string prompt(reinterpret_cast<const char*>(data), size);
  for (auto emphasis : {gesso::prompt::Emphasis::Original, gesso::prompt::Emphasis::None}) {
    try {
      gesso::prompt::parsePrompt(prompt, emphasis);
    } catch (const gesso::GessoError&) {
    }
  }
  return 0;
}
