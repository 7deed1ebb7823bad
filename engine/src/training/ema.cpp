// EMA of the trained weights.
#include "gesso/training/ema.h"

#include "gesso/error.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace gesso::training {

Ema::Ema(const std::vector<at::Tensor>& parameters, double decay) : decay_(decay) {
  at::NoGradGuard no_grad;
  if (decay_ <= 0) return;
  for (const auto& parameter : parameters) shadow_.push_back(parameter.detach().to(at::kFloat).clone());
}

void Ema::update(const std::vector<at::Tensor>& parameters) {
  if (!enabled()) return;
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < shadow_.size(); ++i) {
    shadow_[i].mul_(decay_).add_(parameters[i].detach().to(at::kFloat), 1.0 - decay_);
  }
}

void Ema::copyTo(const std::vector<at::Tensor>& parameters) const {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < shadow_.size(); ++i) parameters[i].copy_(shadow_[i]);
}

void Ema::swap(const std::vector<at::Tensor>& parameters) {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < shadow_.size(); ++i) {
    at::Tensor weights = parameters[i].detach().to(at::kFloat).clone();
    parameters[i].copy_(shadow_[i]);
    shadow_[i] = weights;
  }
}

void Ema::setShadow(const std::vector<at::Tensor>& shadow) {
  if (shadow.size() != shadow_.size()) {
    fail(ErrorCode::ShapeMismatch, "EMA state has " + std::to_string(shadow.size()) + " tensors, the run trains " +
                                       std::to_string(shadow_.size()));
  }
  for (size_t i = 0; i < shadow.size(); ++i) {
    if (shadow[i].sizes() != shadow_[i].sizes()) fail(ErrorCode::ShapeMismatch, "EMA tensor " + std::to_string(i) + " has another shape");
    shadow_[i] = shadow[i].to(shadow_[i].options()).clone();
  }
}

}  // namespace gesso::training
