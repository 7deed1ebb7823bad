// AdamW state as tensors, gradient clipping and loss scaling.
#include "gesso/training/optimizer.h"

#include "gesso/error.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <sstream>
#include <type_traits>
#include <utility>

namespace gesso::training {

namespace {

// torch::optim keys its per-parameter state by the address of the TensorImpl (see Optimizer::state()): printed as a
// string up to LibTorch 2.0, the pointer itself in later versions. The map's own key type decides.
using StateKey = std::decay_t<decltype(std::declval<torch::optim::AdamW&>().state())>::key_type;

// A template so that only the branch for this LibTorch's key type is compiled.
template <typename Key = StateKey>
Key stateKey(const at::Tensor& parameter) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;
    key << parameter.unsafeGetTensorImpl();
    return key.str();
  } else {
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
  }
}

}  // namespace

std::unique_ptr<torch::optim::AdamW> makeAdamW(const std::vector<at::Tensor>& parameters, const AdamWSettings& settings) {
  torch::optim::AdamWOptions options(settings.lr);
  options.betas(std::make_tuple(settings.beta1, settings.beta2)).eps(settings.epsilon).weight_decay(settings.weight_decay);
  return std::make_unique<torch::optim::AdamW>(parameters, options);
}

void setLearningRate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

AdamWState adamwState(torch::optim::AdamW& optimizer, const std::vector<at::Tensor>& parameters) {
  AdamWState state;
  auto& states = optimizer.state();
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto it = states.find(stateKey(parameters[i]));
    if (it == states.end()) {
      state.steps.push_back(0);
      continue;
    }
    const auto& adam = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    state.steps.push_back(adam.step());
    state.tensors.emplace_back("exp_avg." + std::to_string(i), adam.exp_avg());
    state.tensors.emplace_back("exp_avg_sq." + std::to_string(i), adam.exp_avg_sq());
  }
  return state;
}

void restoreAdamwState(torch::optim::AdamW& optimizer, const std::vector<at::Tensor>& parameters,
                       const std::map<std::string, at::Tensor>& tensors, const std::vector<int64_t>& steps) {
  if (steps.size() != parameters.size()) {
    fail(ErrorCode::ShapeMismatch, "optimizer state covers " + std::to_string(steps.size()) + " parameters, the run trains " +
                                       std::to_string(parameters.size()));
  }
  auto& states = optimizer.state();
  states.clear();
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (steps[i] == 0) continue;
    auto find = [&](const std::string& name) {
      const auto it = tensors.find(name);
      if (it == tensors.end()) fail(ErrorCode::MissingKey, "optimizer state lacks '" + name + "'");
      if (it->second.sizes() != parameters[i].sizes()) fail(ErrorCode::ShapeMismatch, "optimizer state '" + name + "' has another shape than its parameter");
      return it->second.to(parameters[i].options()).clone();
    };
    auto adam = std::make_unique<torch::optim::AdamWParamState>();
    adam->step(steps[i]);
    adam->exp_avg(find("exp_avg." + std::to_string(i)));
    adam->exp_avg_sq(find("exp_avg_sq." + std::to_string(i)));
    states[stateKey(parameters[i])] = std::move(adam);
  }
}

double clipGradNorm(const std::vector<at::Tensor>& parameters, double max_norm) {
  at::NoGradGuard no_grad;
  at::Tensor total;
  for (const auto& parameter : parameters) {
    const at::Tensor& grad = parameter.grad();
    if (!grad.defined()) continue;
    const at::Tensor squares = grad.to(at::kDouble).pow(2).sum();
    total = total.defined() ? total + squares : squares;
  }
  if (!total.defined()) return 0.0;
  const double norm = std::sqrt(total.item<double>());
  if (!std::isfinite(norm)) return norm;
  if (max_norm > 0 && norm > max_norm) {
    const double factor = max_norm / (norm + 1e-6);
    for (const auto& parameter : parameters) {
      if (parameter.grad().defined()) parameter.grad().mul_(factor);
    }
  }
  return norm;
}

LossScaler::LossScaler(bool enabled, double initial_scale, int64_t growth_interval)
    : enabled_(enabled), scale_(enabled ? initial_scale : 1.0), growth_interval_(growth_interval) {}

bool LossScaler::unscale(const std::vector<at::Tensor>& parameters) const {
  at::NoGradGuard no_grad;
  // The non-finite flag stays on the gradients' device until the end: one synchronisation per step, not per tensor.
  at::Tensor found_inf;
  for (const auto& parameter : parameters) {
    const at::Tensor& grad = parameter.grad();
    if (!grad.defined()) continue;
    if (enabled_) grad.mul_(1.0 / scale_);
    const at::Tensor bad = at::isfinite(grad).all().logical_not();
    if (!found_inf.defined()) found_inf = bad;
    else found_inf.logical_or_(bad.to(found_inf.device()));
  }
  return !found_inf.defined() || !found_inf.item<bool>();
}

void LossScaler::update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) {
    scale_ *= 0.5;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ >= growth_interval_) {
    scale_ *= 2.0;
    growth_tracker_ = 0;
  }
}

std::string LossScaler::toJson() const {
  return nlohmann::json{{"enabled", enabled_}, {"scale", scale_}, {"growth_interval", growth_interval_}, {"growth_tracker", growth_tracker_}}.dump();
}

void LossScaler::fromJson(const std::string& text) {
  try {
    const auto json = nlohmann::json::parse(text);
    LossScaler read;  // assigned only once every field is read: a damaged state changes nothing
    read.enabled_ = json.at("enabled").get<bool>();
    read.scale_ = json.at("scale").get<double>();
    read.growth_interval_ = json.at("growth_interval").get<int64_t>();
    read.growth_tracker_ = json.at("growth_tracker").get<int64_t>();
    *this = read;
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::InvalidFormat, std::string("loss scaler state: ") + error.what());
  }
}

}  // namespace gesso::training
