// libFuzzer: arbitrary text as a generate request (the `gesso` PNG chunk, `generate --request`): it is read or
// refused with a GessoError; what is read must write back to JSON that reads to the same request, and validation
// must accept it or refuse it with a GessoError.
#include "gesso/error.h"
#include "gesso/pipeline/generate_request.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  gesso::pipeline::GenerateRequest request;
  try {
    request = gesso::pipeline::requestFromJson(text);
  } catch (const gesso::GessoError&) {
    return 0;
  }
  const std::string written = gesso::pipeline::requestToJson(request);
  gesso::pipeline::GenerateRequest again;
  try {
    again = gesso::pipeline::requestFromJson(written);
  } catch (const gesso::GessoError& error) {
    std::fprintf(stderr, "a request read from JSON wrote JSON it cannot read: %s\n%s\n", error.what(), written.c_str());
    std::abort();
  }
  if (again != request) {
    std::fprintf(stderr, "the request changed on a JSON round trip:\n%s\n", written.c_str());
    std::abort();
  }
  try {
    gesso::pipeline::validateRequest(request);
  } catch (const gesso::GessoError&) {
  }
  return 0;
}
