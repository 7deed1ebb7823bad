// gesso-cli train: fine-tune a model on a folder of images (LoRA or full), with a progress bar on a terminal;
// Ctrl-C saves a checkpoint and exits cleanly (a second Ctrl-C kills at once); --resume RUN_DIR continues.
#include "commands.h"

#include "gesso/training/trainer.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

namespace gesso::cli {

namespace {

// The signal handler can only reach a global; it sets the run's cancel flag and restores the default action.
CancelToken train_interrupt;
void onTrainInterrupt(int) {
  train_interrupt.cancel();
  std::signal(SIGINT, SIG_DFL);
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long total = static_cast<long>(seconds + 0.5);
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof(text), "%ldh%02ldm", total / 3600, total / 60 % 60);
  } else {
    std::snprintf(text, sizeof(text), "%ldm%02lds", total / 60, total % 60);
  }
  return text;
}

// One line redrawn on stderr when it is a terminal; otherwise a log line every 10 steps (and the last).
class TrainProgress {
 public:
  TrainProgress() : terminal_(isatty(fileno(stderr)) != 0) {}
  void step(const training::StepMetrics& m) {
    const int width = 24;
    const int done = m.total_steps > 0 ? static_cast<int>(m.step * width / m.total_steps) : width;
    char line[256];
    std::snprintf(line, sizeof(line), "step %lld/%lld epoch %lld loss %.4f (avg %.4f) lr %.2e grad %.3f %.2f img/s ETA %s",
                  static_cast<long long>(m.step), static_cast<long long>(m.total_steps), static_cast<long long>(m.epoch),
                  m.loss, m.smoothed_loss, m.lr, m.grad_norm, m.images_per_second, duration(m.eta_seconds).c_str());
    if (terminal_) {
      std::fprintf(stderr, "\r[%s%s] %s ", std::string(done, '#').c_str(), std::string(width - done, '.').c_str(), line);
      std::fflush(stderr);
      drawn_ = true;
    } else if (m.step % 10 == 0 || m.step == m.total_steps) {
      spdlog::info("{}", line);
    }
  }
  void message(const std::string& text) {
    finishLine();
    spdlog::info("{}", text);
  }
  void finishLine() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool terminal_;
  bool drawn_ = false;
};

void addTrainOptions(CLI::App& train, training::TrainConfig& c) {
  train.add_option("--model", c.model, "Base checkpoint (.safetensors or diffusers folder)");
  train.add_option("--data", c.data, "Folder of images with same-name .txt captions (NAME.mask.png: loss mask)");
  train.add_option("--output", c.output, "Run directory (checkpoints, samples, metrics.jsonl, the result)");
  train.add_option("--method", c.method, "lora or full")->capture_default_str();
  train.add_option("--init", c.init, "checkpoint, or random (full training from --config with random weights)")->capture_default_str();
  train.add_option("--config", c.config, "Model config (LDM/sgm YAML or JSON); required with --init random");
  train.add_option("--vae", c.vae, "Standalone VAE (required with --init random)");
  train.add_option("--tokenizer", c.tokenizer, "CLIP vocabulary file or HF tokenizer folder");
  train.add_option("--device", c.device, "cpu or cuda[:N]")->capture_default_str();
  train.add_option("--rank", c.rank, "LoRA rank")->capture_default_str();
  train.add_option("--alpha", c.alpha, "LoRA alpha (scale alpha/rank)")->capture_default_str();
  train.add_option("--conv-rank", c.conv_rank, "LoCon rank on 3x3 convolutions (0: off)")->capture_default_str();
  train.add_option("--conv-alpha", c.conv_alpha, "LoCon alpha")->capture_default_str();
  train.add_flag("--train-text-encoder", c.train_text_encoder, "Train the text encoder(s) too");
  auto* steps = train.add_option("--steps", c.steps, "Optimizer steps");
  auto* epochs = train.add_option("--epochs", c.epochs, "Epochs (when --steps is not given; default 1)");
  steps->excludes(epochs);
  train.add_option("--batch-size", c.batch_size, "Images per batch")->capture_default_str();
  train.add_option("--grad-accum", c.grad_accum, "Batches accumulated per optimizer step")->capture_default_str();
  train.add_option("--lr", c.lr, "Learning rate")->capture_default_str();
  train.add_option("--lr-scheduler", c.lr_scheduler, "constant, constant_with_warmup, linear or cosine")->capture_default_str();
  train.add_option("--warmup", c.warmup, "Warm-up steps")->capture_default_str();
  train.add_option("--weight-decay", c.weight_decay, "AdamW weight decay")->capture_default_str();
  train.add_option("--max-grad-norm", c.max_grad_norm, "Clip gradients to this global norm (0: off)")->capture_default_str();
  train.add_option("--resolution", c.resolution, "Training resolution (bucket area resolution^2)")->capture_default_str();
  train.add_flag("--buckets", c.buckets, "Aspect-ratio buckets (sides in steps of 64)");
  train.add_flag("--flip", c.flip, "Random horizontal flips");
  train.add_flag("--random-crop", c.random_crop, "Random instead of centre crops");
  train.add_option("--caption-dropout", c.caption_dropout, "Probability a caption is dropped")->capture_default_str();
  train.add_flag("--shuffle-tags", c.shuffle_tags, "Shuffle comma-separated caption tags");
  train.add_option("--keep-tags", c.keep_tags, "Tags kept in place when shuffling")->capture_default_str();
  train.add_option("--clip-skip", c.clip_skip, "Text encoder layer from the end (0: the model's default)")->capture_default_str();
  train.add_option("--ema", c.ema, "EMA decay of the trained weights (0: off)")->capture_default_str();
  train.add_flag("--grad-checkpointing", c.grad_checkpointing, "Recompute UNet blocks in backward (less memory)");
  train.add_option("--mixed-precision", c.mixed_precision, "no, fp16 or bf16 (CUDA only)")->capture_default_str();
  train.add_option("--save-precision", c.save_precision, "Exported file: fp16 or fp32")->capture_default_str();
  train.add_option("--min-snr", c.min_snr, "Min-SNR-gamma weighting (0: off; 5 is common)")->capture_default_str();
  train.add_option("--noise-offset", c.noise_offset, "Noise offset")->capture_default_str();
  train.add_option("--save-every", c.save_every, "Checkpoint every N steps (and at the end)")->capture_default_str();
  train.add_option("--keep", c.keep, "Checkpoints kept")->capture_default_str();
  train.add_option("--sample-every", c.sample_every, "Sample images every N steps")->capture_default_str();
  train.add_option("--sample-prompts", c.sample_prompts, "File: one prompt per line (fixed seeds: seed + line)");
  train.add_option("--sample-steps", c.sample_steps, "Sampling steps of the samples")->capture_default_str();
  train.add_option("--validation-split", c.validation_split, "Fraction of images held out for validation")->capture_default_str();
  train.add_option("--validate-every", c.validate_every, "Validation loss every N steps")->capture_default_str();
  train.add_option("--seed", c.seed, "Seed of everything random")->capture_default_str();
  train.add_option("--cache-dir", c.cache_dir, "Latent/text cache folder (default $XDG_CACHE_HOME/gesso/training)");
  train.add_option("--resume", c.resume, "Continue the run in RUN_DIR from its newest complete checkpoint");
}

void runTrain(CommandContext& context, training::TrainConfig config) {
  if (!config.resume.empty() && config.output.empty()) config.output = config.resume;
  TrainProgress progress;
  training::TrainCallbacks callbacks;
  callbacks.on_step = [&progress](const training::StepMetrics& m) { progress.step(m); };
  callbacks.on_message = [&progress](const std::string& text) { progress.message(text); };
  callbacks.on_validation = [&progress](const training::ValidationMetrics& m) {
    progress.message("step " + std::to_string(m.step) + ": validation loss " + std::to_string(m.loss));
  };
  callbacks.on_samples = [&progress](const training::SampleMetrics& m) {
    for (const auto& path : m.paths) progress.message("sample " + path);
  };
  callbacks.on_checkpoint = [&progress](const training::CheckpointMetrics& m) { progress.message("checkpoint " + m.path); };
  callbacks.cancel = &train_interrupt;
  auto previous = std::signal(SIGINT, onTrainInterrupt);
  auto result = captureErrors([&] { return training::Trainer(config).run(callbacks); });
  std::signal(SIGINT, previous);
  progress.finishLine();
  if (!result) {
    reportError(context, result.error());
    return;
  }
  const training::TrainResult& r = result.value();
  if (r.status == training::TrainStatus::Completed || r.status == training::TrainStatus::Cancelled) {
    if (!r.output_file.empty()) std::printf("%s\n", r.output_file.c_str());
    if (r.status == training::TrainStatus::Cancelled) {
      spdlog::info("stopped at step {}/{}; continue with: gesso-cli train --resume {}", r.step, r.total_steps, config.output);
    }
    return;
  }
  spdlog::error("{}", r.message);
  context.exit_code = 1;
}

void exportCheckpoint(CommandContext& context, const std::string& checkpoint, const std::string& output, const std::string& device) {
  if (output.empty()) {
    spdlog::error("--export-checkpoint needs --output FILE (.safetensors)");
    context.exit_code = 1;
    return;
  }
  training::CheckpointExportOptions options;
  options.output = output;
  options.device = device;
  auto result = captureErrors([&] { return training::Trainer::exportCheckpoint(checkpoint, options); });
  if (!result) {
    reportError(context, result.error());
    return;
  }
  std::printf("%s\n", result.value().path.c_str());
}

}  // namespace

void addTrainCommand(CLI::App& app, CommandContext& context) {
  auto* train = app.add_subcommand("train", "Fine-tune on a folder of images (LoRA or full); --resume continues a run");
  auto config = std::make_shared<training::TrainConfig>();
  addTrainOptions(*train, *config);
  auto export_checkpoint = std::make_shared<std::string>();
  train->add_option("--export-checkpoint", *export_checkpoint,
                    "Write the checkpoint folder RUN_DIR/checkpoints/step-N as a usable file at --output and exit: a LoRA "
                    "run's lora.safetensors, a full run's LDM checkpoint (+ FILE.yaml when the run had a config YAML)");
  train->callback([&context, config, train, export_checkpoint] {
    if (!export_checkpoint->empty()) {
      exportCheckpoint(context, *export_checkpoint, config->output, train->count("--device") ? config->device : std::string());
      return;
    }
    training::TrainConfig run = *config;
    if (!run.resume.empty() && train->count("--device") == 0) run.device.clear();  // keep the run's own device
    runTrain(context, run);
  });
}

}  // namespace gesso::cli
