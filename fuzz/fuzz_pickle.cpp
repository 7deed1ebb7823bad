// libFuzzer: arbitrary bytes through the inert pickle machine. Any outcome but a clean GessoError is a finding.
#include "gesso/error.h"
#include "gesso/io/pickle.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gesso::io::PickleLimits limits;
  limits.max_values = 2000000;  // keeps each run small; the defaults are only larger
  try {
    gesso::io::parseTorchPickle(reinterpret_cast<const char*>(data), size, "fuzz", limits);
  } catch (const gesso::GessoError&) {
  }
  return 0;
}
