// Learning-rate schedules as diffusers' get_scheduler defines them: a factor of the base rate for each optimizer step.
#pragma once

#include <cstdint>
#include <string>

namespace gesso::training {

enum class LrSchedule { Constant, ConstantWithWarmup, Linear, Cosine };

// "constant", "constant_with_warmup", "linear", "cosine"; InvalidArgument otherwise.
LrSchedule parseLrSchedule(const std::string& name);
const char* lrScheduleName(LrSchedule schedule);

// The factor for optimizer step `step` (0-based) of `total_steps`: warm-up step/warmup for step < warmup (every
// schedule but Constant, which ignores warm-up), then 1 (constant*), (total − step)/(total − warmup) (linear) or
// ½(1 + cos(π·progress)) (cosine, one half-wave), never below 0.
double lrFactor(LrSchedule schedule, int64_t step, int64_t total_steps, int64_t warmup_steps);

}  // namespace gesso::training
