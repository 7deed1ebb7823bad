// The trainer's state, shared by its parts: setup (trainer_setup.cpp), the step loop (trainer.cpp) and the
// checkpoint contents (trainer_state.cpp).
#pragma once

#include "gesso/diffusion/denoiser.h"
#include "gesso/pipeline/pipeline.h"
#include "gesso/training/batches.h"
#include "gesso/training/dataset.h"
#include "gesso/training/ema.h"
#include "gesso/training/latent_cache.h"
#include "gesso/training/lr_schedule.h"
#include "gesso/training/metrics.h"
#include "gesso/training/optimizer.h"
#include "gesso/training/trainer.h"

#include "gesso/lora/lora_network.h"

#include <ATen/core/Generator.h>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace gesso::training {

// A batch ready for the network: latents already scaled, conditioning on the device.
struct PreparedBatch {
  at::Tensor mean, logvar;   // [B, C, h, w] VAE moments (unscaled)
  at::Tensor mask;           // [B, 1, h, w] in [0, 1] or undefined
  at::Tensor sizes;          // [B, 6] float: original (h, w), crop (top, left), target (h, w) — SDXL
  std::vector<std::string> captions;
};

struct Trainer::Impl {
  TrainConfig config;
  TrainCallbacks callbacks;
  c10::Device device{c10::kCPU};
  bool autocast = false;
  at::ScalarType autocast_dtype = at::kFloat;

  std::shared_ptr<pipeline::LoadedModel> model;
  ModelConfig model_config;
  std::shared_ptr<lora::LoraNetwork> lora;  // method "lora" only
  std::vector<at::Tensor> parameters;  // what the optimizer trains, in a fixed order
  std::unique_ptr<torch::optim::AdamW> optimizer;
  LrSchedule schedule = LrSchedule::Constant;
  Ema ema;
  LossScaler scaler;
  std::optional<diffusion::Denoiser> denoiser;

  DatasetOptions data_options;
  std::vector<DatasetItem> validation_items;
  std::unique_ptr<BucketBatcher> batcher;
  std::unique_ptr<TensorCache> latent_cache;
  std::unique_ptr<TensorCache> text_cache;  // only while the text encoders are frozen
  std::mt19937_64 data_rng;                 // augmentation and caption processing
  at::Generator generator;                  // CPU: latent sampling, noise, noise offset, timesteps

  std::unique_ptr<MetricsLog> log;
  int64_t step = 0;
  int64_t total_steps = 0;
  double smoothed_loss = 0;  // EMA of the loss, not bias-corrected
  int64_t smoothed_count = 0;
  double last_validation_loss = 0;
  std::string last_checkpoint;
  int64_t last_checkpoint_step = -1;

  void message(const std::string& text) const;

  // trainer_setup.cpp
  void setup();
  void buildModel();
  void setupData();
  void setupOptimization();
  // Freezes every network and gathers what the run trains into `parameters` (attaching the LoRA for "lora").
  void collectParameters();
  // Only what a checkpoint's weights need (device, networks, parameters): Trainer::exportCheckpoint.
  void setupForExport();
  // Latent moments, mask and sizes of batch `indices` of `items` (from the cache or encoded now).
  PreparedBatch prepareBatch(const std::vector<DatasetItem>& items, const std::vector<size_t>& indices,
                             const std::vector<Augmentation>& augmentations, const std::vector<std::string>& captions);
  // Text conditioning of the captions (cached while frozen): crossattn [B, T, D] and vector [B, adm] for SDXL.
  diffusion::Conditioning conditioning(const std::vector<std::string>& captions, const at::Tensor& sizes);

  // trainer.cpp
  // Per-sample loss [B] (weighted, masked) for the batch at the given timesteps and noise.
  at::Tensor batchLoss(const PreparedBatch& batch, const diffusion::Conditioning& cond, const at::Tensor& latents,
                       const at::Tensor& noise, const at::Tensor& timesteps);
  double validationLoss();
  bool weightsFinite() const;
  void writeSamples();
  std::string exportResult();

  // trainer_state.cpp
  void saveCheckpoint();
  void restoreCheckpoint(const std::string& path);
  // The trained tensors (and the EMA shadow when the run keeps one) of checkpoint `path`; `shapes` from its state.json.
  void restoreTrainedTensors(const std::string& path, const std::vector<std::vector<int64_t>>& shapes);
  // Only the weights and the step of checkpoint `path` (no optimizer, RNG or data position): for an export.
  void restoreWeights(const std::string& path);
  static int64_t checkpointStep(const std::string& path);  // from its state.json, version checked
  // A full run's model as an LDM checkpoint at `path` (EMA weights when kept), with the run's config YAML beside it
  // (PATH.yaml); `images` < 0: the image count is not known.
  void writeModelFile(const std::string& path, int64_t images);
  // A LoRA run's adapters (EMA weights when kept) as a kohya file at `path`, in the run's save precision.
  void writeLoraFile(const std::string& path, int64_t images);
  std::vector<std::pair<std::string, at::Tensor>> trainedTensors() const;
};

}  // namespace gesso::training
