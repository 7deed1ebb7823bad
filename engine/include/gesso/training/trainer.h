// Fine-tuning on a folder of images (issue 4): LoRA or full, from a checkpoint or (full only) from random weights.
// Trainer::run does the whole run: data scan and caches, the denoiser's training objective, AdamW with the
// schedule, EMA, checkpoints that survive a kill, validation, samples and metrics; --resume continues bit-exactly.
#pragma once

#include "gesso/cancel_token.h"
#include "gesso/training/metrics.h"
#include "gesso/training/train_config.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gesso::training {

struct TrainCallbacks {
  std::function<void(const StepMetrics&)> on_step;
  std::function<void(const ValidationMetrics&)> on_validation;
  std::function<void(const SampleMetrics&)> on_samples;
  std::function<void(const CheckpointMetrics&)> on_checkpoint;
  std::function<void(const std::string&)> on_message;  // human-readable progress (scan, caches, resume, stops)
  const CancelToken* cancel = nullptr;     // checked between steps: a checkpoint is saved, then run() returns
  const std::atomic<bool>* pause = nullptr;  // while true, the run waits between steps
};

enum class TrainStatus {
  Completed,
  Cancelled,    // stopped by the cancel token after saving
  Diverged,     // the loss or the gradients became NaN/Inf: stopped, nothing saved after the last good checkpoint
  OutOfMemory,  // during a step, a validation, a sample or a save: stopped, the last complete checkpoint kept
  Failed,       // any other error after the start (a file gone, a full disk): stopped, the last complete checkpoint kept
};
const char* trainStatusName(TrainStatus status);  // "completed", "cancelled", "diverged", "out_of_memory", "failed"

struct TrainResult {
  TrainStatus status = TrainStatus::Completed;
  int64_t step = 0;         // optimizer steps done
  int64_t total_steps = 0;
  std::string message;      // why it stopped (empty when completed)
  std::string checkpoint;   // the newest complete checkpoint folder, empty if none
  std::string output_file;  // the exported LoRA (RUN_DIR/lora.safetensors) or model (RUN_DIR/model.safetensors)
};

enum class CheckpointMethod { Lora, Full };

struct CheckpointExportOptions {
  // The file to write. Empty: a LoRA run's checkpoint is used as it is (its lora.safetensors); a full run's goes to
  // RUN_DIR/exports/step-NNNNNNNN.safetensors (a LoRA run with EMA: step-NNNNNNNN.lora.safetensors), reused while
  // it is newer than the checkpoint.
  std::string output;
  std::string device;  // where a full run's model is rebuilt; empty: the run's own device
};

// A training checkpoint as a file generation can use.
struct CheckpointFile {
  CheckpointMethod method = CheckpointMethod::Lora;
  int64_t step = 0;
  std::string path;    // LoRA: the adapters (GenerateRequest::loras); full: an LDM checkpoint (GenerateRequest::model)
  std::string config;  // full: the run's config YAML written beside `path` (PATH.yaml, read on load), else ""
  TrainConfig run;     // the run's settings (its config.json): the base model, VAE and tokenizer a LoRA applies to
};

class Trainer {
 public:
  explicit Trainer(TrainConfig config);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Throws GessoError for what prevents a start (bad config, missing files, no usable image, no valid checkpoint
  // to resume from); everything after the first step ends in a TrainResult.
  TrainResult run(const TrainCallbacks& callbacks = {});

  // CHECKPOINT_DIR (RUN_DIR/checkpoints/step-N) as a usable file: a LoRA run's lora.safetensors (copied to
  // options.output when given). A full run (or a LoRA run with EMA) is rebuilt from the checkpoint's config.json,
  // its trained tensors (the EMA weights when the run keeps them) restored as a resume would, and written like the
  // run's final model.safetensors / lora.safetensors (same precision and metadata; PATH.yaml beside a model when the
  // run had a config YAML). The base checkpoint (or, for --init random, the VAE and config) must still exist.
  // Throws GessoError naming the checkpoint and what is wrong (unverifiable manifest, missing file, another shape).
  static CheckpointFile exportCheckpoint(const std::string& checkpoint_dir, const CheckpointExportOptions& options = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gesso::training
