// Broadcasting a per-sample value over an image batch, shared by the denoiser and guidance (which also use
// gesso/util/shape_text.h for their errors).
#pragma once

#include "gesso/util/shape_text.h"

#include <ATen/ATen.h>

#include <vector>

namespace gesso::diffusion {

// [B] -> [B, 1, ..., 1] with `dims` dimensions.
inline at::Tensor appendDims(const at::Tensor& values, int64_t dims) {
  std::vector<int64_t> shape(static_cast<size_t>(dims), 1);
  shape[0] = values.size(0);
  return values.reshape(shape);  // [B, 1, ..., 1]
}

}  // namespace gesso::diffusion
