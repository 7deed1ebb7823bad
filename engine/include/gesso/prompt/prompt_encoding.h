// One weighted prompt through one text encoder, the A1111 way: windows of 77 tokens, each encoded, weights applied
// with the mean restored, windows joined. The encoder is a function, so this works for any of the CLIP encoders.
#pragma once

#include "gesso/prompt/emphasis.h"
#include "gesso/prompt/prompt_parser.h"
#include "gesso/prompt/token_windows.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace gesso::prompt {

// ids int64 [windows, 77] on the CPU → the encoder's context output [windows, 77, D] on any device (e.g.
// TextEncoderImpl::forward then conditioning(), with the user's clip skip).
using WindowEncoder = std::function<at::Tensor(const at::Tensor& ids)>;

struct EncodedPrompt {
  at::Tensor context;    // [1, 77·windows, D]
  TokenWindows windows;  // the ids and weights that produced it
};

// buildTokenWindows + encoder + applyEmphasis. For SDXL, call it once per embedder (WindowOptions::clip() for
// embedder 0, openClip() for embedder 1; both give the same windows since the BPE is shared) and join the two
// contexts along D; A1111 takes the pooled output of the first window only (zs[0].pooled).
// The encoder's output must be [windows, 77, D], else ShapeMismatch.
EncodedPrompt encodePrompt(const std::vector<WeightedText>& parts, const Tokenizer& tokenize,
                           const WindowEncoder& encode, const WindowOptions& options = WindowOptions::clip(),
                           Emphasis emphasis = Emphasis::Original);

}  // namespace gesso::prompt
