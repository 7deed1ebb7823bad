// A minimal from-scratch trainer for the bundled model's UNet and text encoder (DDPM ε-prediction over cached VAE
// latents, caption dropout for guidance, AdamW, EMA). It exists so that the bundled model can be made where the
// general trainer (gesso-cli train --init random) is not available; it writes a single-file LDM checkpoint.
#pragma once

#include "gesso/cancel_token.h"

#include <cstdint>
#include <functional>
#include <string>

namespace gesso::datasets {

struct ShapesTrainOptions {
  std::string data;       // PNG + .txt captions, all one size; or:
  int shapes_count = 0;      // > 0: instead of `data`, the first N shapes scenes rendered in memory (no image IO)
  uint64_t shapes_seed = 0;  // their seed (as make-dataset shapes --seed; size 64, default fractions)
  std::string device = "cpu";  // "cpu", "cuda", "cuda:N": where the models, latents and batches live
  std::string config;     // the model YAML (UNet, VAE, text encoder)
  std::string vae;        // the trained VAE (standalone safetensors, from train-vae)
  std::string tokenizer;  // folder with vocab.json + merges.txt
  std::string output;     // the .safetensors checkpoint to write
  int64_t steps = 3000;
  int64_t batch_size = 32;
  double lr = 5e-4;
  double weight_decay = 0.01;
  double caption_dropout = 0.1;
  double ema_decay = 0.999;   // 0: off
  int64_t max_images = 0;     // 0: all
  double time_budget_s = 0;   // > 0: stop (and save) when exceeded
  bool fp16 = true;           // write fp16 weights
  uint64_t seed = 0;
  int64_t log_every = 50;
};

struct ShapesStepMetrics {
  int64_t step = 0, total_steps = 0;
  double loss = 0, lr = 0, images_per_second = 0, seconds = 0;
};

struct ShapesTrainResult {
  int64_t steps = 0;
  double final_loss = 0;  // mean over the last log window
  double seconds = 0;
  int64_t unet_parameters = 0, text_parameters = 0;
};

ShapesTrainResult trainShapesModel(const ShapesTrainOptions& options,
                                   const std::function<void(const ShapesStepMetrics&)>& on_step = {},
                                   const std::function<void(const std::string&)>& on_message = {},
                                   const CancelToken* cancel = nullptr);

}  // namespace gesso::datasets
