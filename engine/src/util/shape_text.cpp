// See shape_text.h.
#include "gesso/util/shape_text.h"

namespace gesso {

std::string shapeText(c10::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string shapeText(const at::Tensor& tensor) { return tensor.defined() ? shapeText(tensor.sizes()) : "nothing"; }

}  // namespace gesso
