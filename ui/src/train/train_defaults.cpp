// Per-family training defaults (see train_defaults.h).
#include "train/train_defaults.h"

namespace gesso::ui {

training::TrainConfig defaultTrainConfig(ModelFamily family, const std::string& method) {
  training::TrainConfig config;
  config.method = method;
  const bool xl = family == ModelFamily::SDXL;
  config.resolution = xl ? 1024 : family == ModelFamily::SD2 ? 768 : 512;
  config.buckets = true;
  config.batch_size = 1;
  config.min_snr = 5;
  config.steps = 1000;
  config.save_every = 250;
  config.keep = 3;
  if (method == "full") {
    config.lr = xl ? 5e-6 : 1e-5;
    config.lr_scheduler = "cosine";
    config.warmup = 50;
    config.ema = xl ? 0.9999 : 0.0;
    config.grad_checkpointing = xl;
  } else {
    config.lr = 1e-4;
    config.lr_scheduler = "constant_with_warmup";
    config.warmup = 50;
    config.rank = xl ? 32 : 16;
    config.alpha = 16;
    config.grad_checkpointing = xl;
  }
  return config;
}

}  // namespace gesso::ui
