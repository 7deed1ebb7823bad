// Exponential moving average of the trained weights (shadow = decay·shadow + (1 − decay)·weight after each optimizer
// step), kept in float32 beside the weights; swapped in for samples and the exported file.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace gesso::training {

class Ema {
 public:
  Ema() = default;
  Ema(const std::vector<at::Tensor>& parameters, double decay);  // shadow starts as a copy

  bool enabled() const { return decay_ > 0; }
  double decay() const { return decay_; }
  void update(const std::vector<at::Tensor>& parameters);
  // Copies the shadow into the parameters (no autograd); `swap` exchanges them so a second swap restores the weights.
  void copyTo(const std::vector<at::Tensor>& parameters) const;
  void swap(const std::vector<at::Tensor>& parameters);

  const std::vector<at::Tensor>& shadow() const { return shadow_; }
  // For resume: same count and shapes as the parameters, else ShapeMismatch.
  void setShadow(const std::vector<at::Tensor>& shadow);

 private:
  double decay_ = 0;
  std::vector<at::Tensor> shadow_;
};

}  // namespace gesso::training
