// Caption processing: kohya's caption dropout and tag shuffling, and the portable random helpers they use.
#include "gesso/training/dataset.h"

#include <string>
#include <vector>

namespace gesso::training {

namespace {

std::string trimmed(const std::string& text) {
  const char* space = " \t\r\n\f\v";
  const auto begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(space) - begin + 1);
}

}  // namespace

uint64_t uniformBelow(std::mt19937_64& rng, uint64_t bound) {
  if (bound <= 1) return 0;
  // Rejection keeps it exactly uniform; the limit is the largest multiple of bound representable.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t value = rng();
  while (value >= limit) value = rng();
  return value % bound;
}

double uniformUnit(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

std::string processCaption(const std::string& caption, const DatasetOptions& options, std::mt19937_64& rng) {
  if (options.caption_dropout > 0.0 && uniformUnit(rng) < options.caption_dropout) return "";
  if (!options.shuffle_tags) return caption;
  std::vector<std::string> tags;
  size_t start = 0;
  while (start <= caption.size()) {
    size_t comma = caption.find(',', start);
    if (comma == std::string::npos) comma = caption.size();
    std::string tag = trimmed(caption.substr(start, comma - start));
    if (!tag.empty()) tags.push_back(std::move(tag));
    start = comma + 1;
  }
  const size_t keep = std::min(tags.size(), size_t(std::max(0, options.keep_tags)));
  std::vector<std::string> rest(tags.begin() + long(keep), tags.end());
  shuffleInPlace(rest, rng);
  std::string out;
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i > 0) out += ", ";
    out += i < keep ? tags[i] : rest[i - keep];
  }
  return out;
}

}  // namespace gesso::training
