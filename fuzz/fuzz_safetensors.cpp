// libFuzzer: arbitrary bytes as a .safetensors file (written to a scratch file, since the reader maps files), then
// every tensor it accepts is read.
#include "gesso/error.h"
#include "gesso/io/safetensors.h"

#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/gesso_fuzz_" + std::to_string(::getpid()) + ".safetensors";
  if (FILE* file = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, file);
    std::fclose(file);
  } else {
    return 0;
  }
  try {
    auto file = gesso::io::SafetensorsFile::open(path);
    for (const auto& info : file->tensors()) {
      try {
        at::Tensor tensor = file->tensor(info.name);
        (void)tensor.sum();
      } catch (const gesso::GessoError&) {
      }
    }
  } catch (const gesso::GessoError&) {
  }
  return 0;
}
