// A training dataset: a folder of images with same-name .txt captions and optional NAME.mask.png masks, scanned
// once (every unusable file named and skipped), sorted into aspect-ratio buckets, loaded as [-1, 1] tensors.
#pragma once

#include "gesso/training/buckets.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace gesso::training {

struct DatasetOptions {
  std::string folder;                 // scanned recursively
  int resolution = 512;               // bucket target area = resolution²
  bool buckets = true;                // false: one square bucket resolution×resolution
  int bucket_step = 64;               // bucket sides are multiples of this
  bool random_crop = false;           // false: centre crop
  bool flip = false;                  // random horizontal flip (p = 0.5)
  double caption_dropout = 0.0;       // probability a caption becomes ""
  bool shuffle_tags = false;          // comma-separated tags shuffled...
  int keep_tags = 0;                  // ...except the first N
  std::array<uint8_t, 3> background{255, 255, 255};  // alpha composited on this
  int scan_threads = 0;               // images decoded in parallel by the pre-scan; 0: up to 4 (hardware threads)
};

struct DatasetItem {
  std::string image_path, caption, mask_path;   // mask_path: NAME.mask.png or empty
  int64_t width = 0, height = 0;                // upright (after EXIF orientation)
  int bucket_width = 0, bucket_height = 0;
  std::string content_hash;                     // SHA-256 hex of the file bytes
  std::string mask_hash;                        // SHA-256 hex of the mask file, or empty
  std::string preprocessing;                    // what else decides the pixels (background colour, resampling version)
};

struct SkippedFile {
  std::string path;
  std::string reason;
};

struct DatasetScan {
  std::vector<DatasetItem> items;               // sorted by path (deterministic)
  std::vector<SkippedFile> skipped;             // sorted by path
  std::map<std::pair<int, int>, int> bucket_counts;   // (w, h) -> images
};

// Recursive scan. Candidates are files with an image extension (png, jpg, jpeg, webp, bmp, tif, tiff; any case);
// each is decoded once to prove it usable (the format is recognised by content). Hidden files and folders (".name")
// are ignored; .txt captions and NAME.mask.png masks belong to their image; any other file is listed as skipped.
// A missing caption is "", a caption is UTF-8 (a BOM is dropped), trimmed. An image is skipped, with the reason,
// when it cannot be decoded, is too large, or its caption or mask is unusable. Throws GessoError only if the folder
// is missing (FileNotFound), the options are invalid (InvalidArgument), or no usable image remains (InvalidArgument,
// listing the first skipped files).
// `progress` (optional) is called with (images decoded, images in all) from the calling thread; whatever it throws
// (a cancellation) stops the scan and is rethrown.
DatasetScan scanDataset(const DatasetOptions& options,
                        const std::function<void(int64_t done, int64_t total)>& progress = {});

// One line for a log or a terminal: "12 images in 3 buckets (448x576: 4, 512x512: 5, 576x448: 3); 2 files skipped".
std::string scanSummary(const DatasetScan& scan);

// The buckets scanDataset uses for these options (one square bucket when options.buckets is false).
std::vector<BucketSize> datasetBuckets(const DatasetOptions& options);

// Deterministic split (by seed) into {train, validation}; fraction 0 -> validation empty. Items are ranked by a hash
// of (seed, path), so adding an image rarely moves the others. Both parts keep path order; with fraction > 0 and at
// least 2 items, validation has at least one item and train keeps at least one.
std::pair<std::vector<DatasetItem>, std::vector<DatasetItem>> splitValidation(const std::vector<DatasetItem>& items,
                                                                              double fraction, uint64_t seed);

struct Augmentation {
  bool flip = false;
  int64_t crop_left = 0, crop_top = 0;   // in the resized (cover-size) image, before the flip
  std::string key() const;               // e.g. "x12_y0_f1": part of the latent cache key
};

// The crop (centre, or uniform when options.random_crop) and flip (p = 0.5 when options.flip) for one use of an item.
Augmentation drawAugmentation(const DatasetItem& item, const DatasetOptions& options, std::mt19937_64& rng);

struct Example {
  at::Tensor pixels;   // [3, bucket_height, bucket_width] float32 in [-1, 1]
  at::Tensor mask;     // [1, bucket_height, bucket_width] float32 in [0, 1], or undefined
  // SDXL size/crop conditioning: the upright original size and the crop's top-left corner in the resized image as
  // the model sees it (so measured from the right edge before a flip).
  int64_t original_width = 0, original_height = 0, crop_left = 0, crop_top = 0;
};

// Decodes the image (alpha composited on options.background), resizes it to cover the bucket (antialiased bicubic
// when shrinking), crops, flips. The mask (luminance; transparent = 0) goes through the same resize, crop and flip.
// Throws GessoError naming the file if it has changed so that it no longer matches the scan.
Example loadExample(const DatasetItem& item, const DatasetOptions& options, const Augmentation& augmentation);

// Only the mask of loadExample (undefined when the item has none), without decoding the image: for cached latents.
at::Tensor loadMask(const DatasetItem& item, const DatasetOptions& options, const Augmentation& augmentation);

// kohya semantics: with probability caption_dropout the caption becomes ""; otherwise, with shuffle_tags, the
// comma-separated tags (trimmed, empty ones dropped) are shuffled except the first keep_tags, joined with ", ".
std::string processCaption(const std::string& caption, const DatasetOptions& options, std::mt19937_64& rng);

// Uniform integer in [0, bound) and Fisher-Yates shuffle from a 64-bit engine, the same on every standard library
// (std::uniform_int_distribution and std::shuffle are not), so that runs and resumes agree everywhere.
uint64_t uniformBelow(std::mt19937_64& rng, uint64_t bound);
double uniformUnit(std::mt19937_64& rng);  // [0, 1)
template <class T>
void shuffleInPlace(std::vector<T>& values, std::mt19937_64& rng) {
  for (size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[uniformBelow(rng, i)]);
}

}  // namespace gesso::training
