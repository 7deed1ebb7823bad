// libFuzzer: arbitrary bytes through the whole .ckpt reader (zip, pickle, storage checks, tensors built with ATen).
#include "gesso/error.h"
#include "gesso/io/ckpt_reader.h"
#include "gesso/io/zip_reader.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto archive = gesso::io::ZipReader::fromMemory(std::string(reinterpret_cast<const char*>(data), size), "fuzz.ckpt");
    gesso::io::readTorchCheckpoint(*archive);
  } catch (const gesso::GessoError&) {
  }
  return 0;
}
