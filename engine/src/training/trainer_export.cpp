// Trainer::exportCheckpoint: any checkpoint of a run as a file to generate with (compare checkpoints, `gesso-cli
// train --export-checkpoint`), rebuilt through the trainer's own setup and restore code.
#include "trainer_impl.h"

#include "gesso/error.h"
#include "gesso/training/checkpoint_store.h"
#include "../util/atomic_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace gesso::training {

namespace fs = std::filesystem;

namespace {

std::string readFile(const fs::path& path, const std::string& checkpoint) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::FileNotFound, "checkpoint '" + checkpoint + "': cannot read " + path.filename().string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// An export is reused while it is at least as new as the checkpoint's manifest (a run folder reused by a new run
// writes newer checkpoints).
bool upToDate(const fs::path& file, const fs::path& checkpoint) {
  std::error_code error;
  const auto exported = fs::last_write_time(file, error);
  if (error) return false;
  const auto sealed = fs::last_write_time(checkpoint / "manifest.json", error);
  return !error && exported >= sealed;
}

}  // namespace

CheckpointFile Trainer::exportCheckpoint(const std::string& checkpoint_dir, const CheckpointExportOptions& options) {
  verifyCheckpoint(checkpoint_dir);
  const fs::path folder(checkpoint_dir);
  CheckpointFile file;
  file.run = TrainConfig::fromJson(readFile(folder / "config.json", checkpoint_dir));
  const int64_t step = Impl::checkpointStep(checkpoint_dir);
  file.step = step;

  const bool lora = file.run.method == "lora";
  file.method = lora ? CheckpointMethod::Lora : CheckpointMethod::Full;
  if (lora && file.run.ema <= 0) {
    // The checkpoint's own lora.safetensors (fp32) holds the adapters at that step.
    const std::string adapters = (folder / "lora.safetensors").string();
    if (!fs::is_regular_file(adapters)) fail(ErrorCode::FileNotFound, "checkpoint '" + checkpoint_dir + "' has no lora.safetensors");
    file.path = adapters;
    if (!options.output.empty()) {
      copyFileAtomically(adapters, options.output);
      file.path = options.output;
    }
    return file;
  }

  // A full run, or a LoRA run with EMA (its checkpoint's lora.safetensors holds the raw weights, the run's result the
  // EMA ones): rebuilt and written as the run's result would be.
  if (!options.output.empty()) {
    file.path = options.output;
  } else {
    const fs::path run_dir = folder.parent_path().parent_path();  // RUN_DIR/checkpoints/step-N
    const fs::path exports = run_dir / "exports";
    fs::create_directories(exports);
    file.path = (exports / (checkpointName(step) + (lora ? ".lora.safetensors" : ".safetensors"))).string();
  }
  const fs::path yaml = fs::path(file.path).replace_extension(".yaml");
  if (options.output.empty() && upToDate(file.path, folder)) {
    if (!lora && fs::is_regular_file(yaml)) file.config = yaml.string();
    return file;
  }
  Impl impl;
  impl.config = file.run;
  if (!options.device.empty()) impl.config.device = options.device;
  impl.config.validate();
  impl.setupForExport();
  impl.ema = Ema(impl.parameters, impl.config.ema);
  impl.restoreWeights(checkpoint_dir);
  if (lora) {
    impl.writeLoraFile(file.path, -1);
    return file;
  }
  // A stale PATH.yaml would be read with the new weights: only the run's own YAML (or none) stays beside them.
  std::error_code ignored;
  fs::remove(yaml, ignored);
  impl.writeModelFile(file.path, -1);
  if (fs::is_regular_file(yaml)) file.config = yaml.string();
  return file;
}

}  // namespace gesso::training
