// Learning-rate schedules (diffusers.optimization: get_constant_schedule[_with_warmup], get_linear/cosine_schedule_with_warmup).
#include "gesso/training/lr_schedule.h"

#include "gesso/error.h"

#include <algorithm>
#include <cmath>

namespace gesso::training {

LrSchedule parseLrSchedule(const std::string& name) {
  if (name == "constant") return LrSchedule::Constant;
  if (name == "constant_with_warmup") return LrSchedule::ConstantWithWarmup;
  if (name == "linear") return LrSchedule::Linear;
  if (name == "cosine") return LrSchedule::Cosine;
  fail(ErrorCode::InvalidArgument, "unknown learning-rate schedule '" + name + "' (constant, constant_with_warmup, linear, cosine)");
}

const char* lrScheduleName(LrSchedule schedule) {
  switch (schedule) {
    case LrSchedule::Constant: return "constant";
    case LrSchedule::ConstantWithWarmup: return "constant_with_warmup";
    case LrSchedule::Linear: return "linear";
    case LrSchedule::Cosine: return "cosine";
  }
  return "?";
}

double lrFactor(LrSchedule schedule, int64_t step, int64_t total_steps, int64_t warmup_steps) {
  if (schedule == LrSchedule::Constant) return 1.0;
  if (step < warmup_steps) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup_steps));
  if (schedule == LrSchedule::ConstantWithWarmup) return 1.0;
  const double span = static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
  const double progress = static_cast<double>(step - warmup_steps) / span;
  if (schedule == LrSchedule::Linear) return std::max(0.0, 1.0 - progress);
  return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace gesso::training
