// Weighted prompt runs → 77-token windows for a CLIP text encoder, the way AUTOMATIC1111 chunks long prompts
// (sd_hijack_clip.py tokenize_line): 75 prompt tokens per window, BREAK closes a window, a long prompt is cut
// after a nearby comma. The tokenizer is given as a function, so this file knows no vocabulary.
#pragma once

#include "gesso/prompt/prompt_parser.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gesso::prompt {

constexpr int kWindowPromptTokens = 75;  // prompt tokens per window
constexpr int kWindowLength = 77;        // with the start and end tokens

// BPE ids of a piece of text, without start/end tokens and without truncation.
using Tokenizer = std::function<std::vector<int64_t>(const std::string&)>;

struct WindowOptions {
  int64_t start_id = 49406;  // <|startoftext|>
  int64_t end_id = 49407;    // <|endoftext|>
  // Fills a window after its end token. A1111 fills with end_id and then, where the encoder's pad id differs,
  // overwrites everything after the first end token with it (sd_hijack_clip.py process_tokens).
  int64_t pad_id = 49407;
  int64_t comma_id = 267;  // ",</w>" in OpenAI CLIP's vocabulary (the same for OpenCLIP)
  // A1111's "comma_padding_backtrack" (default 20): when a window is full and its last comma is at most this many
  // tokens from its end, the tokens after the comma move to the next window. 0 disables it.
  int comma_padding_backtrack = 20;

  // SD1.x and SDXL's first encoder (HF CLIPTokenizer, A1111's FrozenCLIPEmbedderWithCustomWords): pad with 49407.
  static WindowOptions clip() { return WindowOptions{}; }
  // SD2.x and SDXL's second encoder (open_clip.tokenize, A1111's FrozenOpenCLIPEmbedder*WithCustomWords): pad with 0.
  static WindowOptions openClip() {
    WindowOptions options;
    options.pad_id = 0;
    return options;
  }
};

struct TokenWindows {
  std::vector<std::array<int64_t, kWindowLength>> ids;  // [start, 75 prompt tokens or padding..., end]
  std::vector<std::array<float, kWindowLength>> weights;  // 1.0 at start, end and padding
  // A1111's token counter: 75 per full window plus the tokens of the last one (shown as "n/75" in its UI).
  int64_t token_count = 0;

  int64_t size() const { return static_cast<int64_t>(ids.size()); }
  at::Tensor idsTensor() const;      // [windows, 77] int64
  at::Tensor weightsTensor() const;  // [windows, 77] float32
};

// Tokenizes each run separately (as A1111 does, so a weight boundary is also a BPE boundary) and packs the tokens
// into windows: a BREAK closes the current window (even an empty one); a full window closes before the next token,
// moving the tokens after its last comma into the next window when that comma is within comma_padding_backtrack
// tokens of the end; the last window closes only if it holds tokens or no window exists (the empty prompt gives
// one window). Textual-inversion embeddings are not handled.
TokenWindows buildTokenWindows(const std::vector<WeightedText>& parts, const Tokenizer& tokenize,
                               const WindowOptions& options = WindowOptions::clip());

// The window of the empty prompt: [start, end, pad...], weights 1.
TokenWindows emptyTokenWindow(const WindowOptions& options = WindowOptions::clip());

}  // namespace gesso::prompt
