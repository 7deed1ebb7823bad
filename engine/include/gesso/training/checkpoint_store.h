// Training checkpoints on disk: RUN_DIR/checkpoints/step-NNNNNNNN/, each written under a temporary name, every file
// flushed, manifest.json (file sizes and SHA-256) written last, then renamed into place; the last K are kept and an
// old one is removed only after the new one is complete. A folder whose manifest is missing or disagrees with its
// files is refused.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gesso::training {

// A checkpoint being written: files go into folder(); commit() seals it. Destroyed uncommitted (an exception while
// saving), the temporary folder is removed and nothing else changes.
class CheckpointWriter {
 public:
  CheckpointWriter(const std::string& run_dir, int64_t step);  // throws GessoError(IoError)
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  const std::string& folder() const { return temporary_; }
  // Writes a small text file atomically (flushed) into folder().
  void writeText(const std::string& name, const std::string& text);
  // Hashes every file of folder(), writes manifest.json, renames the folder to step-NNNNNNNN, syncs the parent and
  // removes all but the newest `keep` complete checkpoints (and stale temporary folders). Returns the final path.
  std::string commit(int keep);

 private:
  std::string checkpoints_;
  std::string temporary_;
  std::string final_;
  int64_t step_ = 0;
  bool committed_ = false;
};

struct CheckpointInfo {
  std::string path;
  int64_t step = 0;
};

std::string checkpointsFolder(const std::string& run_dir);
std::string checkpointName(int64_t step);  // "step-00000100"
// Sealed-looking folders (named step-N, temporaries excluded), oldest first; nothing verified.
std::vector<CheckpointInfo> listCheckpoints(const std::string& run_dir);
// Throws GessoError(InvalidFormat) naming the checkpoint and the file that is missing, of the wrong size or hash,
// or not listed; or the manifest that is missing or malformed.
void verifyCheckpoint(const std::string& path);
// The newest checkpoint that verifies; each refused one is reported through `on_refused` (its path and why).
std::optional<CheckpointInfo> newestValidCheckpoint(
    const std::string& run_dir, const std::function<void(const std::string& path, const std::string& reason)>& on_refused = {});

}  // namespace gesso::training
