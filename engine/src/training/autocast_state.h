// CUDA autocast state across LibTorch versions (1.13: set_enabled / set_autocast_gpu_dtype; 2.4+: per device type).
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace gesso::training {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define GESSO_AUTOCAST_PER_DEVICE 1
#endif

struct AutocastState {
  bool enabled = false;
  at::ScalarType dtype = at::kHalf;
};

inline AutocastState currentAutocast() {
#ifdef GESSO_AUTOCAST_PER_DEVICE
  return {at::autocast::is_autocast_enabled(at::kCUDA), at::autocast::get_autocast_dtype(at::kCUDA)};
#else
  return {at::autocast::is_enabled(), at::autocast::get_autocast_gpu_dtype()};
#endif
}

inline void setAutocast(const AutocastState& state) {
#ifdef GESSO_AUTOCAST_PER_DEVICE
  at::autocast::set_autocast_enabled(at::kCUDA, state.enabled);
  at::autocast::set_autocast_dtype(at::kCUDA, state.dtype);
#else
  at::autocast::set_enabled(state.enabled);
  at::autocast::set_autocast_gpu_dtype(state.dtype);
#endif
}

// Sets a state for a scope and restores the previous one (clearing autocast's cast cache on the way out).
class AutocastGuard {
 public:
  explicit AutocastGuard(const AutocastState& state) : previous_(currentAutocast()) { setAutocast(state); }
  ~AutocastGuard() {
    setAutocast(previous_);
    if (!previous_.enabled) at::autocast::clear_cache();
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  AutocastState previous_;
};

}  // namespace gesso::training
