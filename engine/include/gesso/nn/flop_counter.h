// Counts the floating-point operations of the network layers run on this thread while a FlopCounter lives:
// the benchmark's measure of achieved GFLOP/s. Layers report through FlopCounter::add (a thread-local check).
#pragma once

namespace gesso::nn {

class FlopCounter {
 public:
  FlopCounter();
  ~FlopCounter();
  FlopCounter(const FlopCounter&) = delete;
  FlopCounter& operator=(const FlopCounter&) = delete;

  double flops() const { return flops_; }
  static void add(double flops);  // no-op unless a counter is active on this thread

 private:
  double flops_ = 0;
  FlopCounter* previous_ = nullptr;
};

}  // namespace gesso::nn
