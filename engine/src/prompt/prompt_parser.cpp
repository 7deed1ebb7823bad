// AUTOMATIC1111's prompt syntax: attention brackets, escapes, BREAK and extra-network tags (see prompt_parser.h).
// A hand-written scanner that reproduces the tokens of A1111's `re_attention` regex in the same order of precedence.
#include "gesso/prompt/prompt_parser.h"

#include "gesso/error.h"

#include <charconv>
#include <cmath>
#include <cstddef>

namespace gesso::prompt {
namespace {

constexpr double kRoundMultiplier = 1.1;
constexpr double kSquareMultiplier = 1.0 / 1.1;  // A1111 multiplies by 1/1.1 (not divides by 1.1): bits matter for merging

// Python's `\w` on str: letters, digits, underscore; any non-ASCII byte is taken as part of a letter.
bool isWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_';
}

// Python's `\s` restricted to ASCII (it includes the separators 0x1c-0x1f).
bool isSpaceByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == ' ' || (u >= '\t' && u <= '\r') || (u >= 0x1c && u <= 0x1f);
}

bool isDigitOrDot(char c) { return c == '.' || (c >= '0' && c <= '9'); }

// Python's float() on ASCII text: surrounding white space and a leading '+' allowed; the whole text must be a number.
std::optional<double> parseNumber(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && isSpaceByte(text[begin])) ++begin;
  while (end > begin && isSpaceByte(text[end - 1])) --end;
  if (begin < end && text[begin] == '+') {
    ++begin;
    if (begin < end && text[begin] == '-') return std::nullopt;  // "+-1"
  }
  if (begin == end) return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data() + begin, text.data() + end, value);
  if (ec != std::errc() || ptr != text.data() + end) return std::nullopt;
  return value;
}

std::optional<int> parseInteger(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && isSpaceByte(text[begin])) ++begin;
  while (end > begin && isSpaceByte(text[end - 1])) --end;
  if (begin < end && text[begin] == '+') ++begin;
  if (begin == end) return std::nullopt;
  int value = 0;
  const auto [ptr, ec] = std::from_chars(text.data() + begin, text.data() + end, value);
  if (ec != std::errc() || ptr != text.data() + end) return std::nullopt;
  return value;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(separator, start);
    if (at == std::string::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
}

// A1111's ExtraNetworkParams plus the Lora extension's reading of them.
LoraTag loraFromArguments(const std::string& type, const std::string& arguments) {
  const std::string tag = "<" + type + ":" + arguments + ">";
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> named;
  for (const std::string& item : split(arguments, ':')) {
    const std::vector<std::string> parts = split(item, '=');
    if (parts.size() == 2) {  // Python's item.split('=', 2) has exactly two parts: a named argument
      named.emplace_back(parts[0], parts[1]);
    } else {
      positional.push_back(item);
    }
  }
  auto lastNamed = [&](const std::string& key) -> std::optional<std::string> {
    std::optional<std::string> found;
    for (const auto& [name, value] : named)
      if (name == key) found = value;
    return found;
  };
  auto strengthFrom = [&](const std::string& text, const char* what) {
    const std::optional<double> value = parseNumber(text);
    if (!value || !std::isfinite(*value))
      fail(ErrorCode::InvalidArgument, "prompt: " + std::string(what) + " '" + text + "' in " + tag +
                                           " is not a finite number");
    return static_cast<float>(*value);
  };

  if (positional.empty() || positional[0].empty())
    fail(ErrorCode::InvalidArgument, "prompt: " + tag + " names no network (expected <" + type + ":NAME:STRENGTH>)");
  LoraTag lora;
  lora.type = type;
  lora.name = positional[0];
  lora.strength = positional.size() > 1 ? strengthFrom(positional[1], "strength") : 1.0f;
  if (auto te = lastNamed("te")) lora.strength = strengthFrom(*te, "te");
  lora.unet_strength = positional.size() > 2 ? strengthFrom(positional[2], "unet strength") : lora.strength;
  if (auto unet = lastNamed("unet")) lora.unet_strength = strengthFrom(*unet, "unet");
  std::optional<std::string> dyn = positional.size() > 3 ? std::optional<std::string>(positional[3]) : std::nullopt;
  if (auto named_dyn = lastNamed("dyn")) dyn = named_dyn;
  if (dyn) {
    lora.dyn_dim = parseInteger(*dyn);
    if (!lora.dyn_dim) fail(ErrorCode::InvalidArgument, "prompt: dyn '" + *dyn + "' in " + tag + " is not an integer");
  }
  return lora;
}

// The parser's working list: text with a double-precision weight, or a BREAK marker.
struct Run {
  std::string text;
  double weight = 1.0;
  bool is_break = false;
};

// Appends a run of plain text, split at each `\s*\bBREAK\b\s*` (Python's re.split on the run).
void appendText(const std::string& text, std::vector<Run>& runs) {
  constexpr size_t kLength = 5;  // "BREAK"
  size_t segment_start = 0;
  size_t search = 0;
  while (true) {
    const size_t at = text.find("BREAK", search);
    if (at == std::string::npos) break;
    const bool boundary_before = at == 0 || !isWordByte(text[at - 1]);
    const bool boundary_after = at + kLength == text.size() || !isWordByte(text[at + kLength]);
    if (!boundary_before || !boundary_after) {
      search = at + 1;
      continue;
    }
    size_t match_start = at;
    while (match_start > segment_start && isSpaceByte(text[match_start - 1])) --match_start;
    size_t match_end = at + kLength;
    while (match_end < text.size() && isSpaceByte(text[match_end])) ++match_end;
    runs.push_back({text.substr(segment_start, match_start - segment_start), 1.0, false});
    runs.push_back({std::string(), 1.0, true});
    segment_start = match_end;
    search = match_end;
  }
  runs.push_back({text.substr(segment_start), 1.0, false});
}

void multiplyFrom(std::vector<Run>& runs, size_t start, double multiplier) {
  for (size_t i = start; i < runs.size(); ++i) runs[i].weight *= multiplier;
}

bool isSpecial(char c) { return c == '\\' || c == '(' || c == ')' || c == '[' || c == ']' || c == ':'; }

}  // namespace

ExtractedNetworks extractExtraNetworks(const std::string& prompt) {
  ExtractedNetworks result;
  size_t copied = 0;  // prompt[copied, i) is waiting to be copied into result.text
  size_t i = 0;
  while (i < prompt.size()) {
    if (prompt[i] != '<') {
      ++i;
      continue;
    }
    size_t type_end = i + 1;
    while (type_end < prompt.size() && isWordByte(prompt[type_end])) ++type_end;
    if (type_end == i + 1 || type_end >= prompt.size() || prompt[type_end] != ':') {
      ++i;
      continue;
    }
    const size_t close = prompt.find('>', type_end + 1);
    if (close == std::string::npos || close == type_end + 1) {  // `[^>]+` needs at least one character
      ++i;
      continue;
    }
    const std::string type = prompt.substr(i + 1, type_end - i - 1);
    const std::string arguments = prompt.substr(type_end + 1, close - type_end - 1);
    if (type == "lora" || type == "lyco") {
      result.loras.push_back(loraFromArguments(type, arguments));
    } else {
      result.other_networks.push_back({type, split(arguments, ':')});
    }
    result.text += prompt.substr(copied, i - copied);
    i = close + 1;
    copied = i;
  }
  result.text += prompt.substr(copied);
  return result;
}

std::vector<WeightedText> parseAttention(const std::string& text) {
  std::vector<Run> runs;
  std::vector<size_t> round_brackets;   // index into runs where each open '(' started
  std::vector<size_t> square_brackets;  // same for '['

  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (c == '\\') {
      // `\(` `\)` `\[` `\]` `\\` are the character itself; a lone backslash becomes nothing.
      if (i + 1 < n && (text[i + 1] == '(' || text[i + 1] == ')' || text[i + 1] == '[' || text[i + 1] == ']' ||
                        text[i + 1] == '\\')) {
        runs.push_back({std::string(1, text[i + 1]), 1.0, false});
        i += 2;
      } else {
        runs.push_back({std::string(), 1.0, false});
        i += 1;
      }
    } else if (c == '(') {
      round_brackets.push_back(runs.size());
      ++i;
    } else if (c == '[') {
      square_brackets.push_back(runs.size());
      ++i;
    } else if (c == ':') {
      // `:([+-]?[.\d]+)\)` closes a round bracket with an explicit weight; otherwise ':' is text.
      size_t number_start = i + 1;
      size_t j = number_start;
      if (j < n && (text[j] == '+' || text[j] == '-')) ++j;
      const size_t digits_start = j;
      while (j < n && isDigitOrDot(text[j])) ++j;
      const bool weight_token = j > digits_start && j < n && text[j] == ')';
      if (!weight_token) {
        appendText(":", runs);
        ++i;
        continue;
      }
      const size_t token_end = j + 1;
      if (round_brackets.empty()) {
        appendText(text.substr(i, token_end - i), runs);  // `:1.2)` with no open '(' is literal text
      } else {
        const std::string number = text.substr(number_start, j - number_start);
        const std::optional<double> weight = parseNumber(number);
        if (!weight)
          fail(ErrorCode::InvalidArgument, "prompt: the weight '" + number + "' at character " +
                                               std::to_string(number_start) + " is not a number (expected e.g. (word:1.2))");
        multiplyFrom(runs, round_brackets.back(), *weight);
        round_brackets.pop_back();
      }
      i = token_end;
    } else if (c == ')' && !round_brackets.empty()) {
      multiplyFrom(runs, round_brackets.back(), kRoundMultiplier);
      round_brackets.pop_back();
      ++i;
    } else if (c == ']' && !square_brackets.empty()) {
      multiplyFrom(runs, square_brackets.back(), kSquareMultiplier);
      square_brackets.pop_back();
      ++i;
    } else if (c == ')' || c == ']') {
      appendText(std::string(1, c), runs);  // a stray closing bracket is text
      ++i;
    } else {
      size_t end = i;
      while (end < n && !isSpecial(text[end])) ++end;
      appendText(text.substr(i, end - i), runs);
      i = end;
    }
  }

  // Unclosed brackets apply to everything after them, in the order they were opened.
  for (size_t start : round_brackets) multiplyFrom(runs, start, kRoundMultiplier);
  for (size_t start : square_brackets) multiplyFrom(runs, start, kSquareMultiplier);

  if (runs.empty()) runs.push_back({std::string(), 1.0, false});

  // Merge neighbours of identical weight (exact double equality, as A1111); a BREAK never merges.
  std::vector<Run> merged;
  for (Run& run : runs) {
    if (!merged.empty() && !run.is_break && !merged.back().is_break && merged.back().weight == run.weight) {
      merged.back().text += run.text;
    } else {
      merged.push_back(std::move(run));
    }
  }

  std::vector<WeightedText> result;
  result.reserve(merged.size());
  for (Run& run : merged) {
    if (run.is_break) {
      result.push_back({std::string(), 1.0f, true});
    } else {
      result.push_back({std::move(run.text), static_cast<float>(run.weight), false});
    }
  }
  return result;
}

ParsedPrompt parsePrompt(const std::string& prompt, Emphasis emphasis) {
  ExtractedNetworks extracted = extractExtraNetworks(prompt);
  ParsedPrompt parsed;
  parsed.loras = std::move(extracted.loras);
  parsed.other_networks = std::move(extracted.other_networks);
  if (emphasis == Emphasis::None) {
    parsed.parts.push_back({std::move(extracted.text), 1.0f, false});
  } else {
    parsed.parts = parseAttention(extracted.text);
  }
  return parsed;
}

}  // namespace gesso::prompt
