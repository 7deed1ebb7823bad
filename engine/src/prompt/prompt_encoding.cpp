// A weighted prompt through one text encoder, window by window (see prompt_encoding.h).
#include "gesso/prompt/prompt_encoding.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

namespace gesso::prompt {

EncodedPrompt encodePrompt(const std::vector<WeightedText>& parts, const Tokenizer& tokenize,
                           const WindowEncoder& encode, const WindowOptions& options, Emphasis emphasis) {
  if (!encode) fail(ErrorCode::InvalidArgument, "encodePrompt: no encoder given");
  EncodedPrompt result;
  result.windows = buildTokenWindows(parts, tokenize, options);
  const at::Tensor z = encode(result.windows.idsTensor());  // [windows, 77, D]
  const at::Tensor weights = result.windows.weightsTensor();  // [windows, 77]
  result.context = applyEmphasis(z, weights, emphasis);  // [1, 77·windows, D]
  return result;
}

}  // namespace gesso::prompt
