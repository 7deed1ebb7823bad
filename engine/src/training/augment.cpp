// Loading one training example: decode, resize to cover the item's bucket, crop, flip (and the mask likewise).
#include "gesso/training/dataset.h"

#include "gesso/error.h"
#include "gesso/image/image.h"
#include "gesso/image/image_io.h"

#include <ATen/ATen.h>

#include <string>

namespace gesso::training {

namespace {

BucketSize bucketOf(const DatasetItem& item) {
  if (item.bucket_width <= 0 || item.bucket_height <= 0 || item.width <= 0 || item.height <= 0) {
    fail(ErrorCode::InvalidArgument, item.image_path + ": dataset item has no size or bucket (was it scanned?)");
  }
  return {item.bucket_width, item.bucket_height};
}

std::string sizeText(int64_t width, int64_t height) { return std::to_string(width) + "x" + std::to_string(height); }

void checkCrop(const DatasetItem& item, const Augmentation& augmentation, int64_t covered_width, int64_t covered_height) {
  if (augmentation.crop_left < 0 || augmentation.crop_top < 0 || augmentation.crop_left + item.bucket_width > covered_width ||
      augmentation.crop_top + item.bucket_height > covered_height) {
    fail(ErrorCode::InvalidArgument, item.image_path + ": crop at (" + std::to_string(augmentation.crop_left) + ", " +
                                         std::to_string(augmentation.crop_top) + ") of the bucket " +
                                         sizeText(item.bucket_width, item.bucket_height) + " lies outside the resized image " +
                                         sizeText(covered_width, covered_height));
  }
}

// [1, C, H, W] resized to the cover size, cropped to the bucket and flipped: [C, bucket_height, bucket_width].
// Shrinking uses the antialiased kernels (like PIL's resize), so a large reduction averages instead of aliasing.
at::Tensor placeInBucket(const at::Tensor& full, const DatasetItem& item, const Augmentation& augmentation, bool smooth_kernel,
                         double low, double high) {
  const BucketSize bucket = bucketOf(item);
  const auto [covered_width, covered_height] = coverSize(item.width, item.height, bucket);
  checkCrop(item, augmentation, covered_width, covered_height);
  at::Tensor resized = full;
  if (full.size(2) != covered_height || full.size(3) != covered_width) {
    const std::vector<int64_t> size{covered_height, covered_width};
    resized = smooth_kernel ? at::_upsample_bicubic2d_aa(full, at::IntArrayRef(size), false)
                            : at::_upsample_bilinear2d_aa(full, at::IntArrayRef(size), false);
    resized = resized.clamp(low, high);  // bicubic overshoots at edges
  }
  at::Tensor crop = resized.narrow(2, augmentation.crop_top, bucket.height).narrow(3, augmentation.crop_left, bucket.width);
  if (augmentation.flip) crop = crop.flip({3});
  return crop.squeeze(0).contiguous();  // [C, bucket_height, bucket_width]
}

}  // namespace

std::string Augmentation::key() const {
  return "x" + std::to_string(crop_left) + "_y" + std::to_string(crop_top) + "_f" + (flip ? "1" : "0");
}

Augmentation drawAugmentation(const DatasetItem& item, const DatasetOptions& options, std::mt19937_64& rng) {
  const BucketSize bucket = bucketOf(item);
  const auto [covered_width, covered_height] = coverSize(item.width, item.height, bucket);
  const int64_t spare_width = covered_width - bucket.width;
  const int64_t spare_height = covered_height - bucket.height;
  Augmentation augmentation;
  if (options.random_crop) {
    augmentation.crop_left = int64_t(uniformBelow(rng, uint64_t(spare_width) + 1));
    augmentation.crop_top = int64_t(uniformBelow(rng, uint64_t(spare_height) + 1));
  } else {
    augmentation.crop_left = spare_width / 2;
    augmentation.crop_top = spare_height / 2;
  }
  if (options.flip) augmentation.flip = uniformUnit(rng) < 0.5;
  return augmentation;
}

at::Tensor loadMask(const DatasetItem& item, const DatasetOptions& options, const Augmentation& augmentation) {
  if (item.mask_path.empty()) return {};
  image::ReadOptions read;
  read.background = {0, 0, 0};  // transparent parts of a mask are not trained
  const image::Image mask = image::readImage(item.mask_path, read);
  if (mask.width != item.width || mask.height != item.height) {
    fail(ErrorCode::InvalidFormat, item.mask_path + ": mask is " + sizeText(mask.width, mask.height) + " but its image " +
                                       item.image_path + " is " + sizeText(item.width, item.height));
  }
  // Luminance (ITU-R BT.601, as PIL's "L") in [0, 1].
  const at::Tensor rgb = (image::imageToTensor(mask) + 1.0) * 0.5;  // [1, 3, H, W]
  const at::Tensor weights = at::tensor({0.299f, 0.587f, 0.114f}).view({1, 3, 1, 1});
  const at::Tensor grey = (rgb * weights).sum(1, /*keepdim=*/true);  // [1, 1, H, W]
  return placeInBucket(grey, item, augmentation, /*smooth_kernel=*/false, 0.0, 1.0);
}

Example loadExample(const DatasetItem& item, const DatasetOptions& options, const Augmentation& augmentation) {
  image::ReadOptions read;
  read.background = options.background;
  const image::Image picture = image::readImage(item.image_path, read);
  if (picture.width != item.width || picture.height != item.height) {
    fail(ErrorCode::InvalidFormat, item.image_path + ": image is now " + sizeText(picture.width, picture.height) +
                                       ", the dataset scan found " + sizeText(item.width, item.height) + " (rescan the dataset)");
  }
  Example example;
  example.pixels = placeInBucket(image::imageToTensor(picture), item, augmentation, /*smooth_kernel=*/true, -1.0, 1.0);
  example.mask = loadMask(item, options, augmentation);
  example.original_width = item.width;
  example.original_height = item.height;
  const auto [covered_width, covered_height] = coverSize(item.width, item.height, bucketOf(item));
  (void)covered_height;
  // SDXL's crop conditioning describes the image the model sees: after a flip the crop's left edge is measured
  // from the other side.
  example.crop_left = augmentation.flip ? covered_width - item.bucket_width - augmentation.crop_left : augmentation.crop_left;
  example.crop_top = augmentation.crop_top;
  return example;
}

}  // namespace gesso::training
