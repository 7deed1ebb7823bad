// libFuzzer: arbitrary text through the LDM/sgm YAML config reader (yaml-cpp), then laid over every preset config.
#include "gesso/error.h"
#include "gesso/models/model_config.h"
#include "gesso/models/model_config_files.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const gesso::ConfigOverrides overrides = gesso::parseYamlConfig(text, "fuzz.yaml");
    for (const std::string& name : gesso::presetNames()) {
      gesso::ModelConfig config = gesso::presetConfig(name);
      overrides.applyTo(config);
    }
  } catch (const gesso::GessoError&) {
  }
  return 0;
}
