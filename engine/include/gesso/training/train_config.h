// Everything a training run is asked to do: one field per `gesso-cli train` flag (issue 4), with a JSON form that is
// stored in every checkpoint (so a resumed run continues with exactly the settings it started with).
#pragma once

#include <cstdint>
#include <string>

namespace gesso::training {

struct TrainConfig {
  // What to train and on what.
  std::string model;            // checkpoint (--model); unused with init "random"
  std::string data;             // image folder (--data)
  std::string output;           // run directory (--output)
  std::string method = "lora";  // "lora" | "full"
  std::string init = "checkpoint";  // "checkpoint" | "random" (networks from `config` with random weights)
  std::string config;           // model config file (YAML / JSON); required for init "random"
  std::string vae;              // standalone VAE (required for init "random")
  std::string tokenizer;        // tokenizer file or folder (see pipeline::findTokenizer)
  std::string device = "cpu";   // "cpu" | "cuda[:N]"
  // Latent and text-embedding caches; empty: $GESSO_CACHE_DIR, else $XDG_CACHE_HOME/gesso/training (~/.cache/...).
  std::string cache_dir;

  // LoRA.
  int rank = 16;
  double alpha = 16;
  int conv_rank = 0;            // > 0: LoCon on the UNet's 3x3 convolutions
  double conv_alpha = 1;
  bool train_text_encoder = false;

  // Length and batches.
  int64_t steps = 0;            // optimizer steps; 0: from `epochs`
  int64_t epochs = 0;           // used when steps == 0 (default 1 then)
  int batch_size = 1;
  int grad_accum = 1;

  // Optimizer and schedule.
  double lr = 1e-4;
  std::string lr_scheduler = "constant";  // constant | constant_with_warmup | linear | cosine
  int64_t warmup = 0;           // warm-up steps (linear from 0) for every schedule but "constant"
  double weight_decay = 1e-2;
  double max_grad_norm = 1.0;   // 0: no clipping
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;

  // Data.
  int resolution = 512;
  bool buckets = false;
  bool flip = false;
  bool random_crop = false;
  double caption_dropout = 0;
  bool shuffle_tags = false;
  int keep_tags = 0;
  int clip_skip = 0;

  // Objective.
  double min_snr = 0;           // γ of min-SNR-γ weighting; 0: off
  double noise_offset = 0;

  // Memory and precision.
  double ema = 0;               // EMA decay; 0: off
  bool grad_checkpointing = false;
  std::string mixed_precision = "no";  // no | fp16 | bf16 (CUDA only)
  std::string save_precision = "fp16"; // the exported file: fp16 | fp32

  // Checkpoints, samples, validation.
  int64_t save_every = 0;       // 0: only at the end (and on Ctrl-C)
  int keep = 3;                 // complete checkpoints kept
  int64_t sample_every = 0;
  std::string sample_prompts;   // file: one prompt per line
  int sample_steps = 20;
  double validation_split = 0;  // fraction of the images held out
  int64_t validate_every = 0;
  int64_t seed = 42;
  std::string resume;           // run directory to continue (normally == output)

  // Throws GessoError(InvalidArgument / ConfigError) naming the field.
  void validate() const;
  // Stable key order; doubles in their shortest exact form, so fromJson(toJson()) == *this.
  std::string toJson(int indent = 2) const;
  // Absent fields keep their defaults; unknown keys and wrong types fail naming the field.
  static TrainConfig fromJson(const std::string& json_text);

  bool operator==(const TrainConfig& other) const;
  bool operator!=(const TrainConfig& other) const { return !(*this == other); }
};

}  // namespace gesso::training
