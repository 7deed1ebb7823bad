// Trains an AutoencoderKL from a random init on a folder of same-size images: L1 reconstruction plus a small KL
// term, AdamW. For the bundled model's first stage; writes the VAE as a standalone safetensors file (LDM names
// without the first_stage_model. prefix, as `--vae` reads).
#pragma once

#include "gesso/cancel_token.h"
#include "gesso/models/model_config.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gesso::training {

struct VaeTrainOptions {
  std::string data;     // folder of PNG images, all of one size (searched recursively); or:
  int shapes_count = 0;      // > 0: instead of `data`, the first N scenes of the shapes dataset rendered in memory
  uint64_t shapes_seed = 0;  // their seed (as make-dataset shapes --seed; size 64 and default fractions)
  std::string device = "cpu";  // where the model and the data live ("cpu", "cuda", "cuda:1")
  double max_seconds = 0;      // > 0: stop (and still write the VAE) after this many seconds of training
  std::string config;   // LDM/sgm YAML with first_stage_config
  std::string output;   // the .safetensors file to write
  int64_t steps = 2000;
  int64_t batch_size = 16;
  double lr = 1e-3;
  double weight_decay = 0.01;
  double kl_weight = 1e-6;  // per latent element against the per-pixel L1 mean (LDM's ratio of sums)
  uint64_t seed = 0;
  int64_t log_every = 50;
  // false: the decoder sees the posterior mean (a plain autoencoder; learns much faster on a starved CPU), the KL
  // term still pulls the latent towards N(0, I).
  bool sample_posterior = true;
  // Start from these weights instead of a random init: any VAE `generate --vae` reads (a standalone file as this
  // trainer writes, a checkpoint's first_stage_model.* tensors, diffusers names). Every parameter must be there,
  // with its shape, and nothing else.
  std::string init;
  // Train only post_quant_conv and the decoder; the encoder (and with it the latent space a UNet was trained on)
  // stays exactly as loaded. Needs `init`.
  bool decoder_only = false;
};

struct VaeStepMetrics {
  int64_t step = 0, total_steps = 0;
  double loss = 0, reconstruction_l1 = 0, kl = 0, lr = 0, images_per_second = 0, seconds = 0;
};

struct VaeTrainResult {
  double final_reconstruction_l1 = 0;  // mean |x - x̂| in [-1, 1] units over the last log window
  double latent_std = 0;               // std of the latent means over a sample of the data
  double scale_factor = 0;             // 1 / latent_std: the value for the model config's scale_factor
  double seconds = 0;
  int64_t parameters = 0;
  int64_t images = 0;
  int64_t steps = 0;  // steps done (fewer than asked when cancelled or out of time)
};

// Every .png under `folder` (recursively, sorted by path; the first `max_images` when > 0) as uint8 [N, 3, H, W].
// Throws GessoError when there is none or their sizes differ (naming the file).
struct ImageFolder {
  at::Tensor images;
  std::vector<std::string> paths;
};
ImageFolder loadImageFolder(const std::string& folder, int64_t max_images = 0);

// "cpu", "cuda", "cuda:N" as an at::Device; throws GessoError(InvalidArgument) for another name or a CUDA device
// in a build or on a machine without CUDA.
at::Device parseTrainingDevice(const std::string& name);

// Throws GessoError: the folder has no images or images of different sizes, the config has no VAE, or writing fails.
// `cancel` stops after the current step (the VAE is still written).
VaeTrainResult trainVae(const VaeTrainOptions& options, const std::function<void(const VaeStepMetrics&)>& on_step = {},
                        const CancelToken* cancel = nullptr);

}  // namespace gesso::training
