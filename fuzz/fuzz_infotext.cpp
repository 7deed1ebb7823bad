// libFuzzer: arbitrary text as A1111 infotext (the `parameters` PNG chunk). parseA1111Parameters never throws.
// Formatting what it read either refuses (GessoError) or writes text that is a fixed point: reading and writing it
// again gives the same text (the first pass may normalise: prompt whitespace, invalid UTF-8 replaced, quoting).
// Unknown sampler names are exempt: A1111's rule that a schedule suffix of the name ("X Karras") wins over the
// Schedule type field makes an unknown name such as "D KL Optimal" read back as sampler "D"; Gesso writes only
// known names.
#include "gesso/error.h"
#include "gesso/image/a1111_names.h"
#include "gesso/image/generation_parameters.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const gesso::image::GenerationParameters parsed = gesso::image::parseA1111Parameters(text);  // must not throw
  std::string written;
  try {
    written = gesso::image::formatA1111Parameters(parsed);
  } catch (const gesso::GessoError&) {
    return 0;
  }
  if (!parsed.sampler.empty() && gesso::image::a1111SamplerName(parsed.sampler) == parsed.sampler) return 0;
  const gesso::image::GenerationParameters reread = gesso::image::parseA1111Parameters(written);
  std::string rewritten;
  try {
    rewritten = gesso::image::formatA1111Parameters(reread);
  } catch (const gesso::GessoError& error) {
    std::fprintf(stderr, "Gesso's own infotext cannot be written again: %s\n%s\n", error.what(), written.c_str());
    std::abort();
  }
  if (rewritten != written) {
    std::fprintf(stderr, "infotext is not a fixed point of read + write:\n--- written\n%s\n--- rewritten\n%s\n",
                 written.c_str(), rewritten.c_str());
    std::abort();
  }
  return 0;
}
