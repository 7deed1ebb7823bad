// libFuzzer: arbitrary text through every JSON config reader: diffusers UNet and VAE config.json, HuggingFace
// CLIPTextConfig and open_clip model configs. Each must read the text or refuse it with a GessoError.
#include "gesso/error.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/text_config.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {
template <class F>
void refusedOrRead(F&& parse) {
  try {
    parse();
  } catch (const gesso::GessoError&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  refusedOrRead([&] { gesso::parseDiffusersUNetConfig(text, "fuzz/unet/config.json"); });
  refusedOrRead([&] { gesso::parseDiffusersVaeConfig(text, "fuzz/vae/config.json"); });
  refusedOrRead([&] { gesso::models::textConfigFromHfJson(text); });
  refusedOrRead([&] { gesso::models::textConfigFromOpenClipJson(text); });
  return 0;
}
