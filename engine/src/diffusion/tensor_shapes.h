// Small shape helpers shared by the denoiser and guidance: error text for a tensor's shape, and broadcasting a
// per-sample value over an image batch.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace gesso::diffusion {

// "[2, 4, 8, 8]", or "nothing" for an undefined tensor.
inline std::string shapeText(const at::Tensor& t) {
  if (!t.defined()) return "nothing";
  std::string text = "[";
  for (int64_t i = 0; i < t.dim(); ++i) text += (i ? ", " : "") + std::to_string(t.size(i));
  return text + "]";
}

// [B] -> [B, 1, ..., 1] with `dims` dimensions.
inline at::Tensor appendDims(const at::Tensor& values, int64_t dims) {
  std::vector<int64_t> shape(static_cast<size_t>(dims), 1);
  shape[0] = values.size(0);
  return values.reshape(shape);  // [B, 1, ..., 1]
}

}  // namespace gesso::diffusion
