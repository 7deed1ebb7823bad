// See flop_counter.h.
#include "gesso/nn/flop_counter.h"

namespace gesso::nn {

namespace {
thread_local FlopCounter* active_counter = nullptr;
}

FlopCounter::FlopCounter() : previous_(active_counter) { active_counter = this; }

FlopCounter::~FlopCounter() { active_counter = previous_; }

void FlopCounter::add(double flops) {
  for (FlopCounter* counter = active_counter; counter; counter = counter->previous_) counter->flops_ += flops;
}

}  // namespace gesso::nn
