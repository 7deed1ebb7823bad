// Checkpoint folders: temp name, fsync'd files, manifest last, rename, prune; verification on resume.
#include "gesso/training/checkpoint_store.h"

#include "gesso/error.h"
#include "gesso/util/sha256.h"
#include "util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gesso::training {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = "manifest.json";
constexpr const char* kTemporaryPrefix = ".tmp-";

void syncFolder(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// The step of a folder named step-NNNNNNNN, or -1.
int64_t stepOf(const std::string& name) {
  if (name.size() < 6 || name.rfind("step-", 0) != 0) return -1;
  int64_t step = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

}  // namespace

std::string checkpointsFolder(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoints").string(); }

std::string checkpointName(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step-%08lld", static_cast<long long>(step));
  return name;
}

CheckpointWriter::CheckpointWriter(const std::string& run_dir, int64_t step) : checkpoints_(checkpointsFolder(run_dir)), step_(step) {
  std::error_code error;
  fs::create_directories(checkpoints_, error);
  if (error) fail(ErrorCode::IoError, "cannot create '" + checkpoints_ + "': " + error.message());
  final_ = (fs::path(checkpoints_) / checkpointName(step)).string();
  temporary_ = (fs::path(checkpoints_) / (kTemporaryPrefix + checkpointName(step) + "-" + std::to_string(::getpid()))).string();
  fs::remove_all(temporary_, error);
  fs::create_directory(temporary_, error);
  if (error) fail(ErrorCode::IoError, "cannot create '" + temporary_ + "': " + error.message());
}

CheckpointWriter::~CheckpointWriter() {
  if (committed_) return;
  std::error_code error;
  fs::remove_all(temporary_, error);
}

void CheckpointWriter::writeText(const std::string& name, const std::string& text) {
  AtomicFile file((fs::path(temporary_) / name).string());
  file.write(text.data(), text.size());
  file.commit();
}

std::string CheckpointWriter::commit(int keep) {
  nlohmann::json files = nlohmann::json::object();
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(temporary_)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string path = (fs::path(temporary_) / name).string();
    files[name] = {{"size", static_cast<uint64_t>(fs::file_size(path))}, {"sha256", util::sha256FileHex(path)}};
  }
  const nlohmann::json manifest{{"format", "gesso-training-checkpoint"}, {"version", 1}, {"step", step_}, {"files", files}};
  writeText(kManifest, manifest.dump(2));
  syncFolder(temporary_);
  std::error_code error;
  if (fs::exists(final_)) fs::remove_all(final_, error);  // a refused folder of the same step
  fs::rename(temporary_, final_, error);
  if (error) fail(ErrorCode::IoError, "cannot rename '" + temporary_ + "' to '" + final_ + "': " + error.message());
  committed_ = true;
  syncFolder(checkpoints_);

  // Only now, with the new one complete, old ones go (oldest first) along with temporaries left by killed runs.
  std::vector<CheckpointInfo> all = listCheckpoints(fs::path(checkpoints_).parent_path().string());
  for (size_t i = 0; i + static_cast<size_t>(std::max(1, keep)) < all.size(); ++i) fs::remove_all(all[i].path, error);
  for (const auto& entry : fs::directory_iterator(checkpoints_, error)) {
    if (entry.path().filename().string().rfind(kTemporaryPrefix, 0) == 0) fs::remove_all(entry.path(), error);
  }
  syncFolder(checkpoints_);
  return final_;
}

std::vector<CheckpointInfo> listCheckpoints(const std::string& run_dir) {
  std::vector<CheckpointInfo> result;
  std::error_code error;
  const std::string folder = checkpointsFolder(run_dir);
  if (!fs::is_directory(folder, error)) return result;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const int64_t step = stepOf(entry.path().filename().string());
    if (step >= 0 && entry.is_directory()) result.push_back({entry.path().string(), step});
  }
  std::sort(result.begin(), result.end(), [](const CheckpointInfo& a, const CheckpointInfo& b) { return a.step < b.step; });
  return result;
}

void verifyCheckpoint(const std::string& path) {
  const std::string manifest_path = (fs::path(path) / kManifest).string();
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "' is incomplete: it has no " + kManifest);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(text.str());
  } catch (const std::exception& e) {
    fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': " + kManifest + " is not valid JSON (" + e.what() + ")");
  }
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object()) {
    fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': " + kManifest + " has no \"files\" object");
  }
  std::set<std::string> listed;
  for (const auto& item : manifest["files"].items()) {
    const std::string file = (fs::path(path) / item.key()).string();
    listed.insert(item.key());
    std::error_code error;
    if (!fs::is_regular_file(file, error)) fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "' is incomplete: '" + item.key() + "' is missing");
    const auto size = fs::file_size(file, error);
    if (!item.value().contains("size") || !item.value().contains("sha256")) {
      fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': the manifest entry of '" + item.key() + "' lacks size or sha256");
    }
    if (size != item.value()["size"].get<uint64_t>()) {
      fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "' is damaged: '" + item.key() + "' has " + std::to_string(size) +
                                         " bytes, the manifest says " + std::to_string(item.value()["size"].get<uint64_t>()));
    }
    if (util::sha256FileHex(file) != item.value()["sha256"].get<std::string>()) {
      fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "' is damaged: the SHA-256 of '" + item.key() + "' differs from the manifest");
    }
  }
  for (const auto& entry : fs::directory_iterator(path)) {
    const std::string name = entry.path().filename().string();
    if (name != kManifest && !listed.count(name)) {
      fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "' holds '" + name + "', which its manifest does not list");
    }
  }
}

std::optional<CheckpointInfo> newestValidCheckpoint(
    const std::string& run_dir, const std::function<void(const std::string& path, const std::string& reason)>& on_refused) {
  const std::vector<CheckpointInfo> all = listCheckpoints(run_dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      verifyCheckpoint(it->path);
      return *it;
    } catch (const GessoError& error) {
      if (on_refused) on_refused(it->path, error.error().detail);
    }
  }
  return std::nullopt;
}

}  // namespace gesso::training
