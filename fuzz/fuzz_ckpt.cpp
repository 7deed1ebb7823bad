// libFuzzer: arbitrary bytes as a .ckpt zip archive: the central directory, every entry's local header and data
// (stored or deflated, CRC checked), then data.pkl through the pickle machine, as the .ckpt reader does.
#include "gesso/error.h"
#include "gesso/io/pickle.h"
#include "gesso/io/zip_reader.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto archive = gesso::io::ZipReader::fromMemory(std::string(reinterpret_cast<const char*>(data), size), "fuzz.ckpt");
    for (const auto& entry : archive->entries()) {
      if (entry.size > (1u << 24)) continue;  // the reader would allocate it; the fuzzer's memory limit would not
      try {
        const std::string bytes = archive->readString(entry);
        if (entry.name.size() >= 8 && entry.name.compare(entry.name.size() - 8, 8, "data.pkl") == 0) {
          gesso::io::parseTorchPickle(bytes.data(), bytes.size(), entry.name);
        }
      } catch (const gesso::GessoError&) {
      }
    }
  } catch (const gesso::GessoError&) {
  }
  return 0;
}
