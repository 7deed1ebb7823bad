// The dataset pre-scan: every file of the folder classified, every image decoded once, unusable files named and
// skipped; and the deterministic validation split.
#include "gesso/training/dataset.h"

#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "gesso/util/sha256.h"
#include "training/dataset_scan_memory.h"
#include "util/utf8.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

namespace gesso::training {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxCaptionBytes = 1 << 20;
// Part of every latent cache key: change it when the pixels loadExample produces change for the same inputs.
constexpr const char* kPreprocessingVersion = "v1 bicubic-aa cover";

std::string lower(std::string text) {
  for (char& c : text) c = char(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isImageExtension(const std::string& extension) {
  static const std::set<std::string> known{".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"};
  return known.count(extension) > 0;
}

// The caption file's text: UTF-8 without BOM, line breaks as spaces, trimmed. Throws a reason on failure.
std::string readCaption(const std::string& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error) fail(ErrorCode::IoError, "caption " + path + " is unreadable (" + error.message() + ")");
  if (int64_t(size) > kMaxCaptionBytes) {
    fail(ErrorCode::InvalidFormat, "caption " + path + " is " + std::to_string(size) + " bytes (at most " +
                                       std::to_string(kMaxCaptionBytes) + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::IoError, "caption " + path + " cannot be opened");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(ErrorCode::IoError, "caption " + path + " could not be read");
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  if (!util::isValidUtf8(text)) fail(ErrorCode::InvalidFormat, "caption " + path + " is not UTF-8 text");
  if (text.find('\0') != std::string::npos) fail(ErrorCode::InvalidFormat, "caption " + path + " contains NUL bytes");
  for (char& c : text) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  const auto begin = text.find_first_not_of(" \f\v");
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \f\v") - begin + 1);
}

// The part of an error worth showing after the file's name (the detail usually starts with the path itself).
std::string reasonFrom(const std::string& path, const std::string& detail) {
  if (detail.compare(0, path.size() + 2, path + ": ") == 0) return detail.substr(path.size() + 2);
  return detail;
}

struct Candidate {
  std::string image_path, caption_path, mask_path;
};

struct Outcome {
  bool usable = false;
  bool decoded = false;
  DatasetItem item;
  RememberedImage memory;
  std::string reason;
};

// An image seen by an earlier scan, unchanged since (same byte size and modification time, same mask file):
// its size and hashes are taken from memory; only the caption is read again.
bool recall(const Candidate& candidate, const RememberedImage* remembered, Outcome& outcome) {
  if (!remembered) return false;
  const FileStamp image = stampOf(candidate.image_path);
  if (image.bytes < 0 || !(image == remembered->image) || candidate.mask_path != remembered->mask_path) return false;
  if (!candidate.mask_path.empty() && !(stampOf(candidate.mask_path) == remembered->mask)) return false;
  outcome.memory = *remembered;
  outcome.item.image_path = candidate.image_path;
  outcome.item.width = remembered->width;
  outcome.item.height = remembered->height;
  outcome.item.content_hash = remembered->content_hash;
  outcome.item.mask_path = candidate.mask_path;
  outcome.item.mask_hash = remembered->mask_hash;
  return true;
}

Outcome examine(const Candidate& candidate, const RememberedImage* remembered, const DatasetOptions& options,
                const std::vector<BucketSize>& buckets, const std::string& preprocessing) {
  Outcome outcome;
  const std::string& path = candidate.image_path;
  try {
    if (recall(candidate, remembered, outcome)) {
      DatasetItem& item = outcome.item;
      if (!candidate.caption_path.empty()) item.caption = readCaption(candidate.caption_path);
      const BucketSize bucket = chooseBucket(item.width, item.height, buckets);
      item.bucket_width = bucket.width;
      item.bucket_height = bucket.height;
      item.preprocessing = preprocessing;
      outcome.usable = true;
      return outcome;
    }
    outcome.decoded = true;
    // Stamps taken before reading: a file changed while it is read is examined again next time.
    outcome.memory.image = stampOf(path);
    if (!candidate.mask_path.empty()) outcome.memory.mask = stampOf(candidate.mask_path);
    DatasetItem item;
    item.image_path = path;
    image::ReadOptions read;
    read.background = options.background;
    {
      const image::Image picture = image::readImage(path, read);  // proves the whole file decodes; size is upright
      item.width = picture.width;
      item.height = picture.height;
    }
    item.content_hash = util::sha256FileHex(path);
    if (!candidate.caption_path.empty()) item.caption = readCaption(candidate.caption_path);
    if (!candidate.mask_path.empty()) {
      image::ReadOptions mask_read;
      mask_read.background = {0, 0, 0};
      image::Image mask;
      try {
        mask = image::readImage(candidate.mask_path, mask_read);
      } catch (const GessoError& error) {
        fail(error.error().code, "mask " + candidate.mask_path + ": " + reasonFrom(candidate.mask_path, error.error().detail));
      }
      if (mask.width != item.width || mask.height != item.height) {
        fail(ErrorCode::InvalidFormat, "mask " + candidate.mask_path + " is " + std::to_string(mask.width) + "x" +
                                           std::to_string(mask.height) + ", the image is " + std::to_string(item.width) +
                                           "x" + std::to_string(item.height));
      }
      item.mask_path = candidate.mask_path;
      item.mask_hash = util::sha256FileHex(candidate.mask_path);
    }
    const BucketSize bucket = chooseBucket(item.width, item.height, buckets);
    item.bucket_width = bucket.width;
    item.bucket_height = bucket.height;
    item.preprocessing = preprocessing;
    outcome.memory.mask_path = item.mask_path;
    outcome.memory.width = item.width;
    outcome.memory.height = item.height;
    outcome.memory.content_hash = item.content_hash;
    outcome.memory.mask_hash = item.mask_hash;
    outcome.item = std::move(item);
    outcome.usable = true;
  } catch (const GessoError& error) {
    outcome.reason = reasonFrom(path, error.error().detail);
  } catch (const std::bad_alloc&) {
    outcome.reason = "out of memory while decoding";
  } catch (const std::exception& error) {
    outcome.reason = error.what();
  }
  return outcome;
}

}  // namespace

std::vector<BucketSize> datasetBuckets(const DatasetOptions& options) {
  if (!options.buckets) {
    if (options.resolution <= 0 || options.resolution % 8 != 0) {
      fail(ErrorCode::InvalidArgument, "resolution " + std::to_string(options.resolution) + ": must be a positive multiple of 8");
    }
    return {{options.resolution, options.resolution}};
  }
  return makeBuckets(options.resolution, options.bucket_step);
}

DatasetScan scanDataset(const DatasetOptions& options, const std::function<void(int64_t, int64_t)>& progress) {
  const std::vector<BucketSize> buckets = datasetBuckets(options);
  if (options.caption_dropout < 0.0 || options.caption_dropout > 1.0) {
    fail(ErrorCode::InvalidArgument, "caption dropout " + std::to_string(options.caption_dropout) + ": must be in [0, 1]");
  }
  std::error_code error;
  if (options.folder.empty() || !fs::is_directory(options.folder, error)) {
    fail(ErrorCode::FileNotFound, "dataset folder " + options.folder + ": no such folder");
  }

  DatasetScan scan;
  // 1. Classify every file: images, captions (stem.txt), masks (stem.mask.png), everything else.
  std::map<std::string, std::string> captions, masks;  // stem -> path
  std::vector<std::string> images;
  std::vector<std::string> others;
  auto it = fs::recursive_directory_iterator(options.folder, fs::directory_options::skip_permission_denied, error);
  if (error) fail(ErrorCode::IoError, "dataset folder " + options.folder + ": cannot be listed (" + error.message() + ")");
  for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) {
      // Only the rest of the listing is lost; what was found so far is still usable.
      scan.skipped.push_back({options.folder, "listing stopped early (" + error.message() + ")"});
      break;
    }
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    if (!name.empty() && name[0] == '.') {  // hidden files and folders (.git, .DS_Store, caches)
      if (it->is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(error)) continue;
    if (!it->is_regular_file(error)) {
      scan.skipped.push_back({path.string(), "not a regular file"});
      continue;
    }
    const std::string lower_name = lower(name);
    const std::string stem_base = (path.parent_path() / name).string();
    if (endsWith(lower_name, ".mask.png")) {
      masks[stem_base.substr(0, stem_base.size() - 9)] = path.string();
    } else if (endsWith(lower_name, ".txt")) {
      captions[stem_base.substr(0, stem_base.size() - 4)] = path.string();
    } else if (isImageExtension(lower(path.extension().string()))) {
      images.push_back(path.string());
    } else {
      others.push_back(path.string());
    }
  }
  std::sort(images.begin(), images.end());

  std::vector<Candidate> candidates;
  std::set<std::string> used_stems;
  for (const std::string& image_path : images) {
    const std::string stem = (fs::path(image_path).parent_path() / fs::path(image_path).stem()).string();
    used_stems.insert(stem);
    Candidate candidate{image_path, {}, {}};
    if (auto found = captions.find(stem); found != captions.end()) candidate.caption_path = found->second;
    if (auto found = masks.find(stem); found != masks.end()) candidate.mask_path = found->second;
    candidates.push_back(std::move(candidate));
  }
  for (const std::string& other : others) scan.skipped.push_back({other, "not an image (unknown extension)"});
  for (const auto& [stem, path] : captions) {
    if (!used_stems.count(stem)) scan.skipped.push_back({path, "caption without an image of the same name"});
  }
  for (const auto& [stem, path] : masks) {
    if (!used_stems.count(stem)) scan.skipped.push_back({path, "mask without an image of the same name"});
  }

  // 2. Decode every image in parallel (each worker takes the next index), reporting progress from this thread.
  const std::string preprocessing = std::string(kPreprocessingVersion) + " bg=" + std::to_string(options.background[0]) + "," +
                                    std::to_string(options.background[1]) + "," + std::to_string(options.background[2]);
  const std::map<std::string, RememberedImage> remembered = readScanMemory(options.scan_memory_file);
  std::vector<Outcome> outcomes(candidates.size());
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::condition_variable changed;
  int64_t done = 0;
  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  const size_t thread_count =
      std::max<size_t>(1, std::min<size_t>(candidates.size(), options.scan_threads > 0 ? size_t(options.scan_threads) : std::min(4u, hardware)));
  std::vector<std::thread> workers;
  for (size_t t = 0; t < thread_count; ++t) {
    workers.emplace_back([&] {
      for (size_t index = next++; index < candidates.size(); index = next++) {
        const auto found = remembered.find(candidates[index].image_path);
        outcomes[index] = examine(candidates[index], found == remembered.end() ? nullptr : &found->second, options, buckets, preprocessing);
        std::lock_guard<std::mutex> lock(mutex);
        ++done;
        changed.notify_one();
      }
    });
  }
  std::exception_ptr stopped;  // what the progress callback threw (a cancellation): the workers stop, then it is rethrown
  {
    std::unique_lock<std::mutex> lock(mutex);
    const int64_t total = int64_t(candidates.size());
    int64_t reported = -1;
    while (true) {
      if (progress && done != reported && !stopped) {
        reported = done;
        lock.unlock();
        try {
          progress(reported, total);
        } catch (...) {
          stopped = std::current_exception();
          next = candidates.size();
        }
        lock.lock();
      }
      if (done == total || stopped) break;
      changed.wait_for(lock, std::chrono::milliseconds(200));
    }
  }
  for (std::thread& worker : workers) worker.join();
  if (stopped) std::rethrow_exception(stopped);

  std::map<std::string, RememberedImage> memory;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    scan.images_decoded += outcomes[i].decoded;
    if (outcomes[i].usable) {
      memory[candidates[i].image_path] = outcomes[i].memory;
      scan.items.push_back(std::move(outcomes[i].item));
    } else {
      scan.skipped.push_back({candidates[i].image_path, outcomes[i].reason});
    }
  }
  if (!options.scan_memory_file.empty()) {
    try {
      writeScanMemory(options.scan_memory_file, memory);
    } catch (const std::exception& failure) {  // only the next scan is slower
      spdlog::warn("dataset scan memory {} not written: {}", options.scan_memory_file, failure.what());
    }
  }
  std::sort(scan.skipped.begin(), scan.skipped.end(), [](const SkippedFile& a, const SkippedFile& b) { return a.path < b.path; });
  for (const DatasetItem& item : scan.items) ++scan.bucket_counts[{item.bucket_width, item.bucket_height}];
  for (const SkippedFile& skipped : scan.skipped) spdlog::warn("dataset: skipped {}: {}", skipped.path, skipped.reason);

  if (scan.items.empty()) {
    std::string detail = "dataset folder " + options.folder + ": no usable image (" + std::to_string(scan.skipped.size()) + (scan.skipped.size() == 1 ? " file skipped" : " files skipped");
    for (size_t i = 0; i < std::min<size_t>(3, scan.skipped.size()); ++i) {
      detail += "; " + scan.skipped[i].path + ": " + scan.skipped[i].reason;
    }
    fail(ErrorCode::InvalidArgument, detail + ")");
  }
  return scan;
}

std::string scanSummary(const DatasetScan& scan) {
  std::string text = std::to_string(scan.items.size()) + (scan.items.size() == 1 ? " image in " : " images in ") +
                     std::to_string(scan.bucket_counts.size()) + (scan.bucket_counts.size() == 1 ? " bucket (" : " buckets (");
  bool first = true;
  for (const auto& [bucket, count] : scan.bucket_counts) {
    text += (first ? "" : ", ") + std::to_string(bucket.first) + "x" + std::to_string(bucket.second) + ": " + std::to_string(count);
    first = false;
  }
  text += "); " + std::to_string(scan.skipped.size()) + (scan.skipped.size() == 1 ? " file skipped" : " files skipped");
  return text;
}

std::pair<std::vector<DatasetItem>, std::vector<DatasetItem>> splitValidation(const std::vector<DatasetItem>& items,
                                                                              double fraction, uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    fail(ErrorCode::InvalidArgument, "validation split " + std::to_string(fraction) + ": must be in [0, 1)");
  }
  if (fraction == 0.0 || items.size() < 2) return {items, {}};
  size_t count = size_t(std::llround(fraction * double(items.size())));
  count = std::clamp<size_t>(count, 1, items.size() - 1);
  // Rank by a hash of the seed and the image's content and path: independent of the folder's location and order.
  std::vector<std::pair<std::string, size_t>> ranked;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string relative = fs::path(items[i].image_path).filename().string();
    ranked.push_back({util::sha256Hex(std::to_string(seed) + "\n" + items[i].content_hash + "\n" + relative), i});
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<bool> held_out(items.size(), false);
  for (size_t i = 0; i < count; ++i) held_out[ranked[i].second] = true;
  std::pair<std::vector<DatasetItem>, std::vector<DatasetItem>> split;
  for (size_t i = 0; i < items.size(); ++i) (held_out[i] ? split.second : split.first).push_back(items[i]);
  return split;
}

}  // namespace gesso::training
