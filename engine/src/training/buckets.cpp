// Aspect-ratio buckets (see buckets.h).
#include "gesso/training/buckets.h"

#include "gesso/error.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace gesso::training {

std::vector<BucketSize> makeBuckets(int resolution, int step, double max_aspect) {
  if (step <= 0 || step % 8 != 0) {
    fail(ErrorCode::InvalidArgument, "bucket step " + std::to_string(step) + ": must be a positive multiple of 8 (the VAE's factor)");
  }
  if (resolution < step) {
    fail(ErrorCode::InvalidArgument, "resolution " + std::to_string(resolution) + ": must be at least the bucket step " + std::to_string(step));
  }
  if (!(max_aspect >= 1.0)) fail(ErrorCode::InvalidArgument, "bucket aspect limit must be at least 1");
  const int64_t area = int64_t(resolution) * resolution;
  std::set<BucketSize> sizes;
  const int square = resolution / step * step;
  sizes.insert({square, square});
  // The shorter side walks up in steps; the longer one is the largest multiple of the step that keeps the area
  // within the target (so no bucket costs more memory than resolution²).
  for (int64_t short_side = step; short_side * short_side <= area; short_side += step) {
    const int64_t long_side = area / short_side / step * step;
    if (long_side < short_side) continue;
    if (double(long_side) > double(short_side) * max_aspect) continue;
    sizes.insert({int(short_side), int(long_side)});
    sizes.insert({int(long_side), int(short_side)});
  }
  return {sizes.begin(), sizes.end()};
}

BucketSize chooseBucket(int64_t width, int64_t height, const std::vector<BucketSize>& buckets) {
  if (buckets.empty()) fail(ErrorCode::InvalidArgument, "no buckets to choose from");
  if (width <= 0 || height <= 0) {
    fail(ErrorCode::InvalidArgument, "image size " + std::to_string(width) + "x" + std::to_string(height) + " has no aspect ratio");
  }
  const double aspect = std::log(double(width) / double(height));
  BucketSize best = buckets.front();
  double best_distance = INFINITY;
  for (const BucketSize& bucket : buckets) {
    const double distance = std::abs(std::log(double(bucket.width) / double(bucket.height)) - aspect);
    if (distance < best_distance - 1e-12) {
      best = bucket;
      best_distance = distance;
    }
  }
  return best;
}

std::pair<int64_t, int64_t> coverSize(int64_t width, int64_t height, BucketSize bucket) {
  const double scale = std::max(double(bucket.width) / double(width), double(bucket.height) / double(height));
  const int64_t covered_width = std::max<int64_t>(bucket.width, std::llround(double(width) * scale));
  const int64_t covered_height = std::max<int64_t>(bucket.height, std::llround(double(height) * scale));
  return {covered_width, covered_height};
}

}  // namespace gesso::training
