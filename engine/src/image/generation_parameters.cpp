// AUTOMATIC1111 infotext: formatting and parsing (see generation_parameters.h). The parser follows A1111's
// regular expression \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$) by hand, in linear time, so that
// hostile text cannot make it slow.
#include "gesso/image/generation_parameters.h"

#include "gesso/error.h"
#include "gesso/image/a1111_names.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace gesso::image {

namespace {

bool isWordChar(char c) {
  const auto byte = static_cast<unsigned char>(c);
  // Python's \w is Unicode-aware: bytes of multi-byte UTF-8 characters count as word characters here.
  return (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || byte == '_' || byte >= 0x80;
}
bool isKeyChar(char c) { return isWordChar(c) || c == ' ' || c == '-' || c == '/'; }
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view strip(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool startsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

using Pairs = std::vector<std::pair<std::string, std::string>>;

// All "key: value" matches of A1111's pattern in one line, in order, values still quoted.
Pairs findPairs(std::string_view line) {
  Pairs pairs;
  const size_t n = line.size();
  size_t start = 0;
  while (start < n) {
    size_t p = start;
    while (p < n && isSpace(line[p])) ++p;
    const size_t key_begin = p;
    if (p >= n || !isWordChar(line[p])) {
      start = std::max(start + 1, p);
      continue;
    }
    ++p;
    const size_t run_begin = p;
    while (p < n && isKeyChar(line[p])) ++p;
    if (p == run_begin || p >= n || line[p] != ':') {
      // Every start between here and p reaches the same p and fails the same way.
      start = std::max(start + 1, p);
      continue;
    }
    const std::string key(line.substr(key_begin, p - key_begin));
    size_t value_begin = p + 1;
    while (value_begin < n && isSpace(line[value_begin])) ++value_begin;
    size_t value_end = std::string_view::npos;
    if (value_begin < n && line[value_begin] == '"') {  // "(?:\\.|[^\\"])+" followed by ',' or the end
      size_t q = value_begin + 1;
      bool content = false;
      while (q < n && line[q] != '"') {
        if (line[q] == '\\') {
          if (q + 1 >= n) break;
          ++q;
        }
        ++q;
        content = true;
      }
      if (q < n && line[q] == '"' && content && (q + 1 == n || line[q + 1] == ',')) value_end = q + 1;
    }
    if (value_end == std::string_view::npos) {  // [^,]*
      value_end = line.find(',', value_begin);
      if (value_end == std::string_view::npos) value_end = n;
    }
    pairs.emplace_back(key, std::string(line.substr(value_begin, value_end - value_begin)));
    start = value_end < n ? value_end + 1 : n;  // the ',' belongs to the match
  }
  return pairs;
}

std::string unquote(const std::string& value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return value;
  const nlohmann::json parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  return parsed.is_string() ? parsed.get<std::string>() : value;
}

bool needsQuotes(const std::string& value) {
  // A1111 quotes values with ',', ':' or a newline; Gesso also quotes whatever the parser would not give back as is.
  return value.empty() || value.find_first_of(",:\n") != std::string::npos || value.front() == '"' ||
         isSpace(value.front()) || isSpace(value.back());
}

std::string quote(const std::string& value) {
  if (!needsQuotes(value)) return value;
  return nlohmann::json(value).dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

std::optional<int64_t> parseInteger(std::string_view text) {
  text = strip(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parseNumber(std::string_view text) {
  text = strip(text);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string formatNumber(double value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest exact form
  return error == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

// "512x768" → {512, 768}, as A1111's ^(\d+)x(\d+)$.
std::optional<std::pair<int64_t, int64_t>> parseSize(std::string_view text) {
  const size_t x = text.find('x');
  if (x == std::string_view::npos || x == 0 || x + 1 >= text.size()) return std::nullopt;
  const auto digits = [](std::string_view part) { return std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }); };
  if (!digits(text.substr(0, x)) || !digits(text.substr(x + 1))) return std::nullopt;
  const auto width = parseInteger(text.substr(0, x));
  const auto height = parseInteger(text.substr(x + 1));
  if (!width || !height) return std::nullopt;
  return std::make_pair(*width, *height);
}

const std::set<std::string>& namedKeys() {
  static const std::set<std::string> keys{"Steps",        "Sampler",      "Schedule type",      "CFG scale",     "Seed",
                                          "Size",         "Model hash",   "Model",              "Denoising strength",
                                          "Clip skip",    "Hires upscale", "Hires resize",      "Hires steps",   "Hires upscaler"};
  return keys;
}

bool isRepresentableKey(const std::string& key) {
  return key.size() >= 2 && isWordChar(key[0]) && std::all_of(key.begin() + 1, key.end(), isKeyChar);
}

}  // namespace

bool GenerationParameters::operator==(const GenerationParameters& o) const {
  return prompt == o.prompt && negative_prompt == o.negative_prompt && steps == o.steps && sampler == o.sampler &&
         scheduler == o.scheduler && cfg_scale == o.cfg_scale && seed == o.seed && width == o.width && height == o.height &&
         model_hash == o.model_hash && model == o.model && denoising_strength == o.denoising_strength &&
         clip_skip == o.clip_skip && hires_scale == o.hires_scale && hires_width == o.hires_width &&
         hires_height == o.hires_height && hires_steps == o.hires_steps && hires_upscaler == o.hires_upscaler && extra == o.extra;
}

std::string formatA1111Parameters(const GenerationParameters& p) {
  std::vector<std::string> fields;
  const auto add = [&](const std::string& key, const std::string& value) { fields.push_back(key + ": " + quote(value)); };
  add("Steps", std::to_string(p.steps));
  if (!p.sampler.empty()) add("Sampler", a1111SamplerName(p.sampler));
  if (!p.scheduler.empty()) add("Schedule type", a1111ScheduleName(p.scheduler));
  add("CFG scale", formatNumber(p.cfg_scale));
  add("Seed", std::to_string(p.seed));
  add("Size", std::to_string(p.width) + "x" + std::to_string(p.height));
  if (!p.model_hash.empty()) add("Model hash", p.model_hash);
  if (!p.model.empty()) add("Model", p.model);
  if (p.denoising_strength) add("Denoising strength", formatNumber(*p.denoising_strength));
  if (p.clip_skip) add("Clip skip", std::to_string(*p.clip_skip));
  if (p.hires_width && p.hires_height) add("Hires resize", std::to_string(*p.hires_width) + "x" + std::to_string(*p.hires_height));
  if (p.hires_scale) add("Hires upscale", formatNumber(*p.hires_scale));
  if (p.hires_steps) add("Hires steps", std::to_string(*p.hires_steps));
  if (p.hires_upscaler) add("Hires upscaler", *p.hires_upscaler);
  for (const auto& [key, value] : p.extra) {
    if (!isRepresentableKey(key)) {
      fail(ErrorCode::InvalidArgument, "generation parameter key \"" + key + "\" cannot be written in A1111's format "
                                       "(expected a word character, then word characters, spaces, '-' or '/')");
    }
    if (namedKeys().count(key)) fail(ErrorCode::InvalidArgument, "generation parameter \"" + key + "\" is a named field, not an extra");
    add(key, value);
  }
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) line += (i ? ", " : "") + fields[i];

  std::string text = p.prompt;
  if (!p.negative_prompt.empty()) text += "\nNegative prompt: " + p.negative_prompt;
  text += "\n" + line;
  return std::string(strip(text));
}

GenerationParameters parseA1111Parameters(const std::string& text) {
  GenerationParameters p;
  std::vector<std::string_view> lines;
  const std::string_view body = strip(text);
  for (size_t begin = 0;;) {
    const size_t end = body.find('\n', begin);
    lines.push_back(body.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  std::string_view last_line = lines.back();
  lines.pop_back();
  Pairs pairs = findPairs(last_line);
  if (pairs.size() < 3) {
    lines.push_back(last_line);
    pairs.clear();
  }

  bool negative = false;
  for (std::string_view raw : lines) {
    std::string_view line = strip(raw);
    if (startsWith(line, "Negative prompt:")) {
      negative = true;
      line = strip(line.substr(16));
    }
    std::string& target = negative ? p.negative_prompt : p.prompt;
    if (!target.empty()) target += '\n';
    target.append(line);
  }

  std::optional<std::string> sampler;
  std::optional<std::string> schedule_type;
  for (auto& [key, quoted] : pairs) {
    if (quoted.empty()) continue;  // A1111 skips empty values
    const std::string value = unquote(quoted);
    bool understood = true;
    if (key == "Steps") {
      const auto steps = parseInteger(value);
      understood = steps.has_value();
      if (steps) p.steps = *steps;
    } else if (key == "Sampler") {
      sampler = value;
    } else if (key == "Schedule type") {
      schedule_type = value;
    } else if (key == "CFG scale") {
      const auto cfg = parseNumber(value);
      understood = cfg.has_value();
      if (cfg) p.cfg_scale = *cfg;
    } else if (key == "Seed") {
      const auto seed = parseInteger(value);
      understood = seed.has_value();
      if (seed) p.seed = *seed;
    } else if (key == "Size") {
      const auto size = parseSize(value);
      understood = size.has_value();
      if (size) p.width = size->first, p.height = size->second;
    } else if (key == "Model hash") {
      p.model_hash = value;
    } else if (key == "Model") {
      p.model = value;
    } else if (key == "Denoising strength") {
      p.denoising_strength = parseNumber(value);
      understood = p.denoising_strength.has_value();
    } else if (key == "Clip skip") {
      p.clip_skip = parseInteger(value);
      understood = p.clip_skip.has_value();
    } else if (key == "Hires upscale") {
      p.hires_scale = parseNumber(value);
      understood = p.hires_scale.has_value();
    } else if (key == "Hires resize") {
      const auto size = parseSize(value);
      understood = size.has_value();
      if (size) p.hires_width = size->first, p.hires_height = size->second;
    } else if (key == "Hires steps") {
      p.hires_steps = parseInteger(value);
      understood = p.hires_steps.has_value();
    } else if (key == "Hires upscaler") {
      p.hires_upscaler = value;
    } else {
      understood = false;
    }
    if (!understood) p.extra[key] = value;
  }
  if (sampler) {
    const SamplerChoice choice = samplerFromA1111(*sampler, schedule_type ? &*schedule_type : nullptr);
    p.sampler = choice.sampler;
    p.scheduler = choice.scheduler;
  } else if (schedule_type) {
    const SamplerChoice choice = samplerFromA1111("", &*schedule_type);
    p.scheduler = choice.scheduler;
  }
  return p;
}

}  // namespace gesso::image
