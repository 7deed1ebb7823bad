// BucketBatcher (see batches.h): the batch order of an epoch is a pure function of (items, batch size, seed, epoch).
#include "gesso/training/batches.h"

#include "gesso/error.h"

#include <map>
#include <string>

namespace gesso::training {

namespace {

// SplitMix64: decorrelates the per-epoch seeds (consecutive integers seed mt19937_64 poorly).
uint64_t mix(uint64_t value) {
  value += 0x9E3779B97F4A7C15ull;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

}  // namespace

BucketBatcher::BucketBatcher(std::vector<DatasetItem> items, int batch_size, uint64_t seed)
    : items_(std::move(items)), batch_size_(batch_size), seed_(seed) {
  if (items_.empty()) fail(ErrorCode::InvalidArgument, "batcher: no dataset items");
  if (batch_size_ < 1) fail(ErrorCode::InvalidArgument, "batch size " + std::to_string(batch_size_) + ": must be at least 1");
  std::map<std::pair<int, int>, int64_t> counts;
  for (const DatasetItem& item : items_) ++counts[{item.bucket_width, item.bucket_height}];
  for (const auto& entry : counts) batches_per_epoch_ += (entry.second + batch_size_ - 1) / batch_size_;
}

std::vector<std::vector<size_t>> BucketBatcher::epochBatches(int64_t epoch) const {
  std::mt19937_64 rng(mix(seed_ ^ mix(uint64_t(epoch))));
  std::map<std::pair<int, int>, std::vector<size_t>> groups;  // ordered: the same walk on every platform
  for (size_t i = 0; i < items_.size(); ++i) groups[{items_[i].bucket_width, items_[i].bucket_height}].push_back(i);
  std::vector<std::vector<size_t>> batches;
  for (auto& entry : groups) {
    std::vector<size_t>& group = entry.second;
    shuffleInPlace(group, rng);
    for (size_t begin = 0; begin < group.size(); begin += size_t(batch_size_)) {
      const size_t end = std::min(group.size(), begin + size_t(batch_size_));
      batches.emplace_back(group.begin() + long(begin), group.begin() + long(end));
    }
  }
  shuffleInPlace(batches, rng);
  return batches;
}

void BucketBatcher::plan(int64_t epoch) {
  if (planned_epoch_ == epoch) return;
  batches_ = epochBatches(epoch);
  planned_epoch_ = epoch;
}

std::vector<size_t> BucketBatcher::next() {
  plan(state_.epoch);
  std::vector<size_t> batch = batches_[size_t(state_.position)];
  if (++state_.position == batches_per_epoch_) {
    state_.position = 0;
    ++state_.epoch;
  }
  return batch;
}

BucketBatcher::State BucketBatcher::state() const { return state_; }

void BucketBatcher::restore(const State& state) {
  if (state.epoch < 0 || state.position < 0 || state.position >= batches_per_epoch_) {
    fail(ErrorCode::InvalidArgument, "batcher state (epoch " + std::to_string(state.epoch) + ", position " +
                                         std::to_string(state.position) + ") does not fit a dataset of " +
                                         std::to_string(batches_per_epoch_) + " batches per epoch");
  }
  state_ = state;
}

int64_t BucketBatcher::batchesPerEpoch() const { return batches_per_epoch_; }

const std::vector<DatasetItem>& BucketBatcher::items() const { return items_; }

}  // namespace gesso::training
