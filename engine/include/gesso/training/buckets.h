// Aspect-ratio buckets: the set of training sizes near a target area, and which one an image of a given size uses.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace gesso::training {

struct BucketSize {
  int width = 0;
  int height = 0;
  bool operator==(const BucketSize& other) const { return width == other.width && height == other.height; }
  bool operator<(const BucketSize& other) const { return std::make_pair(width, height) < std::make_pair(other.width, other.height); }
};

constexpr double kMaxBucketAspect = 4.0;  // like kohya: nothing more elongated than 4:1

// Every size with both sides multiples of `step` (at least `step`), an area at most resolution² and as close to it as
// the step allows (the longer side is the largest multiple that fits), and an aspect ratio within max_aspect:1.
// Sorted by (width, height). Throws GessoError(InvalidArgument) unless resolution ≥ step > 0 and step % 8 == 0.
std::vector<BucketSize> makeBuckets(int resolution, int step, double max_aspect = kMaxBucketAspect);

// The bucket whose aspect ratio is nearest (in log scale) to width / height; ties go to the first in `buckets`.
BucketSize chooseBucket(int64_t width, int64_t height, const std::vector<BucketSize>& buckets);

// The size the image is resized to before cropping: the aspect ratio kept, just covering the bucket.
std::pair<int64_t, int64_t> coverSize(int64_t width, int64_t height, BucketSize bucket);

}  // namespace gesso::training
