// Prompt weights applied to text-encoder outputs (A1111's sd_emphasis.py), windows joined into one conditioning,
// and a prompt and negative prompt of different lengths made batchable for classifier-free guidance.
#pragma once

#include "gesso/prompt/prompt_parser.h"

#include <ATen/core/Tensor.h>

#include <utility>

namespace gesso::prompt {

// z: the encoder's output for each window [windows, 77, D]; weights: [windows, 77] (TokenWindows::weightsTensor()).
// Returns the conditioning [1, 77·windows, D] (windows joined along the token axis, as A1111's torch.hstack).
//  - Original: per window, z·w, then scaled by mean(z)/mean(z·w) so the window's mean over all its 77·D values is
//    restored. (A1111 takes one mean over the window's whole batch [B, 77, D]: the same for a batch of identical
//    prompts; prompts that differ within one batch would share a mean there and each get their own here.)
//  - NoNorm: z·w only.  Ignore, None: z unchanged.
// Arithmetic is in float32 for half/bfloat16 inputs; the result has z's dtype. A window whose weighted mean is 0
// gives inf/nan, as in A1111.
at::Tensor applyEmphasis(const at::Tensor& z, const at::Tensor& weights, Emphasis emphasis = Emphasis::Original);

// Ways to give a prompt's and a negative prompt's conditionings [B, T, D] the same token count T.
enum class LengthMatching {
  // Repeat each whole conditioning along the tokens up to the least common multiple of both lengths (ComfyUI's
  // CONDCrossAttn.concat). Cross-attention over keys repeated k times equals attention over the keys once, so this
  // gives what A1111 computes by default (two separate UNet calls, no padding) in one batched call.
  RepeatToCommonMultiple,
  // A1111's option "Pad prompt/negative prompt" (pad_cond_uncond): append copies of the empty prompt's
  // conditioning [1, 77, D] to the shorter one. Changes the result.
  AppendEmptyPrompt,
  // A1111's "Pad prompt/negative prompt (v0)" (DDIM before 1.6.0): the negative prompt alone is changed, by repeating
  // its last token vector or by cutting it to the prompt's length. Changes the result.
  RepeatLastToken,
};

// Returns {cond, uncond} with equal token counts (unchanged when they already agree). `empty_prompt` is the
// encoded empty prompt [1, 77, D], needed only by AppendEmptyPrompt. Shapes that cannot be matched (different
// batch or width, lengths not multiples of 77 for AppendEmptyPrompt) fail with ShapeMismatch.
std::pair<at::Tensor, at::Tensor> matchConditioningLengths(const at::Tensor& cond, const at::Tensor& uncond,
                                                           LengthMatching mode = LengthMatching::RepeatToCommonMultiple,
                                                           const at::Tensor& empty_prompt = at::Tensor());

}  // namespace gesso::prompt
