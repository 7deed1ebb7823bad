// Prompt text with AUTOMATIC1111's semantics: attention brackets `(a:1.2)` `(a)` `[a]`, escapes, BREAK, and the
// extra-network tags `<lora:NAME:0.8>` that are taken out of the text. Pure string work: no tokenizer, no tensors.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gesso::prompt {

// One run of prompt text with its attention multiplier, or a BREAK (which forces a new 75-token window).
struct WeightedText {
  std::string text;      // empty for a BREAK
  float weight = 1.0f;   // 1.0 for a BREAK
  bool is_break = false;

  bool operator==(const WeightedText& other) const {
    return text == other.text && weight == other.weight && is_break == other.is_break;
  }
};

// `<lora:NAME>`, `<lora:NAME:TE[:UNET[:DYN]]>`, named `te=`, `unet=`, `dyn=` (A1111's built-in Lora extension);
// `<lyco:...>` is an alias. An absent UNet strength equals the text-encoder strength.
struct LoraTag {
  std::string name;
  float strength = 1.0f;       // text-encoder multiplier (the number in `<lora:NAME:0.8>`)
  float unet_strength = 1.0f;  // UNet multiplier; equals `strength` unless given
  std::optional<int> dyn_dim;  // `dyn`: use only this many ranks of the LoRA
  std::string type = "lora";   // "lora" or "lyco", as written

  bool operator==(const LoraTag& other) const {
    return name == other.name && strength == other.strength && unet_strength == other.unet_strength &&
           dyn_dim == other.dyn_dim && type == other.type;
  }
};

// Any other `<type:args>` tag (e.g. `<hypernet:x:1>`): removed from the text like A1111 does, kept here unparsed.
struct ExtraNetworkTag {
  std::string type;
  std::vector<std::string> arguments;  // the text after `type:`, split at ':'
};

// How bracket weights are treated (A1111's "Emphasis" setting).
enum class Emphasis {
  None,      // brackets and BREAK are plain text; every token weighs 1
  Ignore,    // brackets are parsed (and removed) and BREAK works, but weights are not applied
  Original,  // weights multiply the encoder output, then its mean is restored (A1111's default)
  NoNorm,    // weights multiply the encoder output; no mean restoration
};

struct ExtractedNetworks {
  std::string text;  // the prompt with every `<type:args>` tag replaced by nothing
  std::vector<LoraTag> loras;
  std::vector<ExtraNetworkTag> other_networks;
};

// Takes every `<word:args>` tag out of the prompt (A1111's extra_networks.parse_prompt: `<(\w+):([^>]+)>`).
// A LoRA tag whose strength or dyn is not a finite number fails with InvalidArgument naming the tag.
ExtractedNetworks extractExtraNetworks(const std::string& prompt);

// A1111's parse_prompt_attention: `(x)` ×1.1, `[x]` ×(1/1.1), `(x:W)` ×W, nesting multiplies, `\( \) \[ \] \\`
// are literal, a lone `\` is dropped, an unclosed `(` or `[` still applies to the rest of the prompt, a stray `)` or
// `]` is literal text, `(x: 1.2)` (space before the number) is not a weight. `BREAK` in capitals as a word
// (regex `\s*\bBREAK\b\s*`, surrounding white space eaten) gives an is_break entry. Adjacent runs of equal weight
// are merged; the empty prompt gives one empty run. Weights are computed in double precision in A1111's order
// of multiplications (so merging decides exactly as A1111 does) and stored as float.
// A weight that the pattern accepts but that is no number (`(a:1.2.3)`, `(a:.)`) fails with InvalidArgument
// (A1111 raises too).
// Deviation: a BREAK inside brackets stays a BREAK (A1111 multiplies its -1 marker and then encodes the word "BREAK"
// with a negative weight). Non-ASCII text counts as word characters for `\b`; only ASCII white space is `\s`.
std::vector<WeightedText> parseAttention(const std::string& text);

struct ParsedPrompt {
  std::vector<WeightedText> parts;
  std::vector<LoraTag> loras;
  std::vector<ExtraNetworkTag> other_networks;
};

// extractExtraNetworks, then parseAttention (or, for Emphasis::None, the whole text as one run of weight 1).
ParsedPrompt parsePrompt(const std::string& prompt, Emphasis emphasis = Emphasis::Original);

}  // namespace gesso::prompt
