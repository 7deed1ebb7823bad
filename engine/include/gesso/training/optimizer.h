// The optimizer side of a step: AdamW construction and its state as plain tensors (for checkpoints written as
// safetensors + JSON instead of torch's pickle archives), clipping by global norm, and the dynamic loss scaler of
// fp16 mixed precision.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/optim/adamw.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gesso::training {

struct AdamWSettings {
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 1e-2;
};

std::unique_ptr<torch::optim::AdamW> makeAdamW(const std::vector<at::Tensor>& parameters, const AdamWSettings& settings);
void setLearningRate(torch::optim::AdamW& optimizer, double lr);

// Per parameter i (in `parameters` order): "exp_avg.i", "exp_avg_sq.i" and the step count in `steps` (0 where the
// optimizer has no state yet, with no tensors).
struct AdamWState {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::vector<int64_t> steps;
};
AdamWState adamwState(torch::optim::AdamW& optimizer, const std::vector<at::Tensor>& parameters);
// The inverse; the parameters must be the optimizer's, in the same order. ShapeMismatch / MissingKey on a mismatch.
void restoreAdamwState(torch::optim::AdamW& optimizer, const std::vector<at::Tensor>& parameters,
                       const std::map<std::string, at::Tensor>& tensors, const std::vector<int64_t>& steps);

// The global L2 norm of the gradients (parameters without a gradient are skipped), computed in float64; when
// max_norm > 0 and the norm exceeds it, every gradient is scaled by max_norm / (norm + 1e-6) (torch's
// clip_grad_norm_). Returns the norm before clipping (NaN/Inf when a gradient is not finite; nothing is scaled then).
double clipGradNorm(const std::vector<at::Tensor>& parameters, double max_norm);

// Dynamic loss scaling (torch.cuda.amp.GradScaler): the loss is multiplied by `scale` before backward; gradients are
// divided by it; a step whose gradients are not finite is skipped and the scale halved; after `growth_interval`
// finite steps in a row the scale doubles.
class LossScaler {
 public:
  LossScaler() = default;  // disabled: scale 1, never skips
  explicit LossScaler(bool enabled, double initial_scale = 65536.0, int64_t growth_interval = 2000);

  bool enabled() const { return enabled_; }
  double scale() const { return scale_; }
  // Divides the gradients by the scale; returns whether all of them are finite.
  bool unscale(const std::vector<at::Tensor>& parameters) const;
  // After a step: found_inf halves the scale and resets the count, else counts toward growth.
  void update(bool found_inf);

  std::string toJson() const;
  void fromJson(const std::string& text);

 private:
  bool enabled_ = false;
  double scale_ = 1.0;
  int64_t growth_interval_ = 2000;
  int64_t growth_tracker_ = 0;
};

}  // namespace gesso::training
