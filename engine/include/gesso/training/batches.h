// Same-bucket batches in a reproducible order: each epoch's order follows from (seed, epoch) alone, so a run resumed
// from a saved State sees exactly the batches the uninterrupted run would have seen.
#pragma once

#include "gesso/training/dataset.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gesso::training {

class BucketBatcher {  // each epoch: items shuffled within buckets (seed + epoch), cut into same-bucket batches, batches shuffled
 public:
  // Throws GessoError(InvalidArgument) on no items or batch_size < 1. A bucket's last batch may be smaller.
  BucketBatcher(std::vector<DatasetItem> items, int batch_size, uint64_t seed);

  std::vector<size_t> next();  // indices into items() of the next batch; rolls over to the next epoch

  struct State {
    int64_t epoch = 0;     // the epoch of the batch next() returns next
    int64_t position = 0;  // its index within that epoch
  };
  State state() const;
  void restore(const State& state);  // throws GessoError(InvalidArgument) on a negative or out-of-range state

  int64_t batchesPerEpoch() const;
  const std::vector<DatasetItem>& items() const;
  // The whole batch order of one epoch (what next() walks through).
  std::vector<std::vector<size_t>> epochBatches(int64_t epoch) const;

 private:
  void plan(int64_t epoch);

  std::vector<DatasetItem> items_;
  int batch_size_ = 1;
  uint64_t seed_ = 0;
  State state_;
  int64_t planned_epoch_ = -1;
  std::vector<std::vector<size_t>> batches_;  // of planned_epoch_
  int64_t batches_per_epoch_ = 0;
};

}  // namespace gesso::training
