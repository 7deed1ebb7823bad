// The scan memory file (see dataset_scan_memory.h): JSON, {"version": 1, "images": {path: {...}}}.
#include "training/dataset_scan_memory.h"

#include "gesso/error.h"
#include "util/atomic_file.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

namespace gesso::training {

namespace {

namespace fs = std::filesystem;
constexpr int kVersion = 1;

nlohmann::json stampJson(const FileStamp& stamp) { return {{"bytes", stamp.bytes}, {"modified_ns", stamp.modified_ns}}; }
FileStamp stampFrom(const nlohmann::json& json) { return {json.at("bytes").get<int64_t>(), json.at("modified_ns").get<int64_t>()}; }

}  // namespace

FileStamp stampOf(const std::string& path) {
  std::error_code error;
  const auto bytes = fs::file_size(path, error);
  if (error) return {};
  const auto modified = fs::last_write_time(path, error);
  if (error) return {};
  return {int64_t(bytes), int64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count())};
}

std::map<std::string, RememberedImage> readScanMemory(const std::string& path) {
  std::map<std::string, RememberedImage> images;
  std::error_code error;
  if (path.empty() || !fs::exists(path, error)) return images;
  try {
    std::ifstream in(path, std::ios::binary);
    const nlohmann::json json = nlohmann::json::parse(in);
    if (json.at("version").get<int>() != kVersion) fail(ErrorCode::InvalidFormat, "another version");
    for (const auto& [image_path, entry] : json.at("images").items()) {
      RememberedImage image;
      image.image = stampFrom(entry.at("image"));
      image.mask_path = entry.at("mask_path").get<std::string>();
      image.mask = stampFrom(entry.at("mask"));
      image.width = entry.at("width").get<int64_t>();
      image.height = entry.at("height").get<int64_t>();
      image.content_hash = entry.at("content_hash").get<std::string>();
      image.mask_hash = entry.at("mask_hash").get<std::string>();
      if (image.width <= 0 || image.height <= 0 || image.content_hash.size() != 64) fail(ErrorCode::InvalidFormat, "bad entry for " + image_path);
      images[image_path] = std::move(image);
    }
  } catch (const std::exception& failure) {
    spdlog::warn("dataset scan memory {} is unreadable ({}); every image is decoded again", path, failure.what());
    images.clear();
  }
  return images;
}

void writeScanMemory(const std::string& path, const std::map<std::string, RememberedImage>& images) {
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [image_path, image] : images) {
    entries[image_path] = {{"image", stampJson(image.image)}, {"mask_path", image.mask_path}, {"mask", stampJson(image.mask)},
                           {"width", image.width},          {"height", image.height},       {"content_hash", image.content_hash},
                           {"mask_hash", image.mask_hash}};
  }
  const std::string text = nlohmann::json{{"version", kVersion}, {"images", entries}}.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::error_code error;
  const fs::path folder = fs::path(path).parent_path();
  if (!folder.empty()) fs::create_directories(folder, error);
  AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

}  // namespace gesso::training
