// Prompt weights on encoder outputs with the mean restored, and length matching of prompt/negative conditionings.
#include "gesso/prompt/emphasis.h"

#include "gesso/error.h"
#include "gesso/prompt/token_windows.h"
#include "gesso/util/shape_text.h"

#include <ATen/ATen.h>

#include <numeric>

namespace gesso::prompt {
namespace {

}  // namespace

at::Tensor applyEmphasis(const at::Tensor& z, const at::Tensor& weights, Emphasis emphasis) {
  if (!z.defined() || z.dim() != 3 || z.size(1) != kWindowLength)
    fail(ErrorCode::ShapeMismatch, "applyEmphasis: z has shape " + (z.defined() ? shapeText(z) : std::string("(none)")) +
                                       ", expected [windows, 77, D]");
  if (!weights.defined() || weights.dim() != 2 || weights.size(0) != z.size(0) || weights.size(1) != kWindowLength)
    fail(ErrorCode::ShapeMismatch, "applyEmphasis: weights have shape " +
                                       (weights.defined() ? shapeText(weights) : std::string("(none)")) +
                                       ", expected [" + std::to_string(z.size(0)) + ", 77] to match z " + shapeText(z));
  const int64_t windows = z.size(0);
  const int64_t width = z.size(2);

  at::Tensor result = z;
  if (emphasis == Emphasis::Original || emphasis == Emphasis::NoNorm) {
    const bool reduced = z.scalar_type() == at::kHalf || z.scalar_type() == at::kBFloat16;
    const at::Tensor values = reduced ? z.to(at::kFloat) : z;
    const at::Tensor w = weights.to(values.options()).unsqueeze(-1);  // [windows, 77, 1]
    at::Tensor weighted = values * w;                                  // [windows, 77, D]
    if (emphasis == Emphasis::Original) {
      const at::Tensor original_mean = values.mean({1, 2}, /*keepdim=*/true);  // [windows, 1, 1]
      const at::Tensor new_mean = weighted.mean({1, 2}, /*keepdim=*/true);     // [windows, 1, 1]
      weighted = weighted * (original_mean / new_mean);
    }
    result = reduced ? weighted.to(z.scalar_type()) : weighted;
  }
  return result.reshape({1, windows * kWindowLength, width});  // [1, 77·windows, D]
}

std::pair<at::Tensor, at::Tensor> matchConditioningLengths(const at::Tensor& cond, const at::Tensor& uncond,
                                                           LengthMatching mode, const at::Tensor& empty_prompt) {
  if (!cond.defined() || !uncond.defined() || cond.dim() != 3 || uncond.dim() != 3 ||
      cond.size(0) != uncond.size(0) || cond.size(2) != uncond.size(2))
    fail(ErrorCode::ShapeMismatch, "matchConditioningLengths: cond " +
                                       (cond.defined() ? shapeText(cond) : std::string("(none)")) + " and uncond " +
                                       (uncond.defined() ? shapeText(uncond) : std::string("(none)")) +
                                       " must both be [B, T, D] with the same B and D");
  const int64_t cond_length = cond.size(1);
  const int64_t uncond_length = uncond.size(1);
  if (cond_length == uncond_length) return {cond, uncond};
  if (cond_length == 0 || uncond_length == 0)
    fail(ErrorCode::ShapeMismatch, "matchConditioningLengths: a conditioning has no tokens");

  switch (mode) {
    case LengthMatching::RepeatToCommonMultiple: {
      const int64_t common = std::lcm(cond_length, uncond_length);
      return {cond.repeat({1, common / cond_length, 1}), uncond.repeat({1, common / uncond_length, 1})};  // [B, lcm, D]
    }
    case LengthMatching::AppendEmptyPrompt: {
      if (!empty_prompt.defined() || empty_prompt.dim() != 3 || empty_prompt.size(0) != 1 ||
          empty_prompt.size(1) != kWindowLength || empty_prompt.size(2) != cond.size(2))
        fail(ErrorCode::ShapeMismatch, "matchConditioningLengths: the empty prompt's conditioning has shape " +
                                           (empty_prompt.defined() ? shapeText(empty_prompt) : std::string("(none)")) +
                                           ", expected [1, 77, " + std::to_string(cond.size(2)) + "]");
      if ((cond_length - uncond_length) % kWindowLength != 0)
        fail(ErrorCode::ShapeMismatch, "matchConditioningLengths: token counts " + std::to_string(cond_length) +
                                           " and " + std::to_string(uncond_length) + " differ by no multiple of 77");
      const int64_t batch = cond.size(0);
      const at::Tensor empty = empty_prompt.to(cond.options());
      if (cond_length < uncond_length) {
        const int64_t repeats = (uncond_length - cond_length) / kWindowLength;
        return {at::cat({cond, empty.repeat({batch, repeats, 1})}, 1), uncond};  // [B, T_uncond, D]
      }
      const int64_t repeats = (cond_length - uncond_length) / kWindowLength;
      return {cond, at::cat({uncond, empty.repeat({batch, repeats, 1})}, 1)};  // [B, T_cond, D]
    }
    case LengthMatching::RepeatLastToken: {
      if (uncond_length > cond_length) return {cond, uncond.narrow(1, 0, cond_length)};  // [B, T_cond, D]
      const at::Tensor last = uncond.narrow(1, uncond_length - 1, 1);                     // [B, 1, D]
      return {cond, at::cat({uncond, last.repeat({1, cond_length - uncond_length, 1})}, 1)};  // [B, T_cond, D]
    }
  }
  fail(ErrorCode::InvalidArgument, "matchConditioningLengths: unknown mode");
}

}  // namespace gesso::prompt
