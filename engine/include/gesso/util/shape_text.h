// Shapes as text for error messages and listings: "[2, 4, 8, 8]".
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <string>

namespace gesso {

std::string shapeText(c10::IntArrayRef shape);
// The tensor's shape, or "nothing" for an undefined tensor.
std::string shapeText(const at::Tensor& tensor);

}  // namespace gesso
