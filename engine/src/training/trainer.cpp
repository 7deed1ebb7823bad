// Trainer::run: the step loop (objective through the shared Denoiser, accumulation, clipping, schedule, EMA),
// validation at fixed timesteps and noise, samples, and how a run stops (cancel, NaN, out of memory, errors).
#include "trainer_impl.h"

#include "autocast_state.h"
#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "gesso/training/checkpoint_store.h"
#include "util/atomic_file.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <sstream>
#include <thread>

namespace gesso::training {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kValidationTimesteps[] = {100, 300, 500, 700, 900};
constexpr uint64_t kValidationSeedOffset = 1000003;

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::FileNotFound, "cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct StepOutcome {
  enum Kind { Done, Skipped, Diverged } kind = Done;
  double loss = 0;
  double grad_norm = 0;
  int64_t images = 0;
  std::string why;
};

}  // namespace

const char* trainStatusName(TrainStatus status) {
  switch (status) {
    case TrainStatus::Completed: return "completed";
    case TrainStatus::Cancelled: return "cancelled";
    case TrainStatus::Diverged: return "diverged";
    case TrainStatus::OutOfMemory: return "out_of_memory";
    case TrainStatus::Failed: return "failed";
  }
  return "?";
}

at::Tensor Trainer::Impl::batchLoss(const PreparedBatch& batch, const diffusion::Conditioning& cond, const at::Tensor& latents,
                                    const at::Tensor& noise, const at::Tensor& timesteps) {
  const at::Tensor sigma = denoiser->trainingSigmas().to(device).index_select(0, timesteps.to(device));  // [B]
  const diffusion::TrainingExample example = denoiser->trainingExample(latents, noise, sigma);
  const at::Tensor prediction = model->unet->forward(example.model_input, example.timestep, cond.crossattn, cond.vector);
  const at::Tensor error = (prediction.to(at::kFloat) - example.target.to(at::kFloat)).pow(2);  // [B, C, h, w]
  at::Tensor per_sample;
  if (batch.mask.defined()) {
    const at::Tensor mask = batch.mask.to(device);  // [B, 1, h, w]
    per_sample = (error * mask).sum({1, 2, 3}) / (mask.sum({1, 2, 3}) * error.size(1)).clamp_min(1e-6);
  } else {
    per_sample = error.mean({1, 2, 3});  // [B]
  }
  if (config.min_snr > 0) {
    // Min-SNR-γ (Hang et al. 2023): SNR(t) = 1/σ² in the variance-exploding view; ε targets are weighted by
    // min(SNR, γ)/SNR, v targets by min(SNR, γ)/(SNR + 1).
    const at::Tensor snr = sigma.to(at::kFloat).pow(-2);
    const at::Tensor clipped = at::clamp_max(snr, config.min_snr);
    per_sample = per_sample * (model_config.prediction == Prediction::V ? clipped / (snr + 1) : clipped / snr);
  }
  return per_sample;
}

bool Trainer::Impl::weightsFinite() const {
  at::NoGradGuard no_grad;
  for (const auto& p : parameters) {
    if (!at::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

double Trainer::Impl::validationLoss() {
  if (validation_items.empty()) return NAN;
  at::NoGradGuard no_grad;
  DatasetOptions fixed = data_options;
  fixed.flip = false;
  fixed.random_crop = false;
  std::mt19937_64 unused(0);  // centre crop, no flip: nothing is drawn
  auto noise_generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(config.seed) + kValidationSeedOffset);
  double total = 0;
  int64_t count = 0;
  for (size_t i = 0; i < validation_items.size(); ++i) {
    const Augmentation augmentation = drawAugmentation(validation_items[i], fixed, unused);
    const PreparedBatch batch = prepareBatch(validation_items, {i}, {augmentation}, {validation_items[i].caption});
    const at::Tensor latents = (batch.mean * model_config.vae.scale_factor).to(device);
    AutocastGuard guard({autocast, autocast_dtype});  // CUDA mixed precision; off on the CPU
    const diffusion::Conditioning cond = conditioning(batch.captions, batch.sizes);
    for (int64_t t : kValidationTimesteps) {
      const at::Tensor noise = at::randn(batch.mean.sizes(), noise_generator).to(device);
      const at::Tensor per_sample = batchLoss(batch, cond, latents, noise, at::full({1}, t, at::kLong));
      total += per_sample.sum().item<double>();
      count += per_sample.size(0);
    }
  }
  return total / static_cast<double>(count);
}

void Trainer::Impl::writeSamples() {
  std::vector<std::string> prompts;
  {
    std::istringstream lines(readText(config.sample_prompts));
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) prompts.push_back(line);
    }
  }
  if (prompts.empty()) return;
  const fs::path folder = fs::path(config.output) / "samples";
  fs::create_directories(folder);
  if (ema.enabled()) ema.swap(parameters);
  SampleMetrics metrics;
  metrics.step = step;
  try {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < prompts.size(); ++i) {
      pipeline::GenerateRequest request;
      const pipeline::ModelLoadOptions& options = model->options();
      request.model = options.model;
      request.config = options.config;
      request.vae = options.vae;
      request.tokenizer = options.tokenizer;
      request.device = options.device;
      request.precision = options.precision;
      request.prompt = prompts[i];
      request.seed = config.seed + static_cast<int64_t>(i);  // fixed per prompt: comparable across checkpoints
      request.steps = config.sample_steps;
      request.width = config.resolution;
      request.height = config.resolution;
      request.clip_skip = config.clip_skip;
      const pipeline::GenerateResult result = pipeline::generate(*model, request);
      char name[64];
      std::snprintf(name, sizeof(name), "step-%08lld-%02zu.png", static_cast<long long>(step), i);
      const std::string path = (folder / name).string();
      image::writePng(path, result.images.at(0).image);
      metrics.paths.push_back(path);
      metrics.prompts.push_back(prompts[i]);
    }
  } catch (...) {
    if (ema.enabled()) ema.swap(parameters);
    throw;
  }
  if (ema.enabled()) ema.swap(parameters);
  log->write(metrics);
  if (callbacks.on_samples) callbacks.on_samples(metrics);
}

Trainer::Trainer(TrainConfig config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

Trainer::~Trainer() = default;

TrainResult Trainer::run(const TrainCallbacks& callbacks) {
  Impl& s = *impl_;
  s.callbacks = callbacks;

  // Resume: the run's own config from its newest complete checkpoint (a refused one is named, the previous used).
  std::string resume_from;
  if (!s.config.resume.empty()) {
    const auto found = newestValidCheckpoint(s.config.resume, [&s](const std::string& path, const std::string& reason) {
      s.message("refusing checkpoint " + path + ": " + reason + "; trying the previous one");
    });
    if (!found) fail(ErrorCode::FileNotFound, "no complete checkpoint to resume from in '" + checkpointsFolder(s.config.resume) + "'");
    TrainConfig stored = TrainConfig::fromJson(readText((fs::path(found->path) / "config.json").string()));
    stored.resume = s.config.resume;
    stored.output = s.config.resume;
    if (!s.config.device.empty()) stored.device = s.config.device;  // the same run may continue on another device
    if (s.config.steps > 0) stored.steps = s.config.steps;  // "train longer"
    if (s.config.epochs > 0 && s.config.steps == 0) {
      stored.steps = 0;
      stored.epochs = s.config.epochs;
    }
    s.config = stored;
    resume_from = found->path;
  }
  s.config.validate();
  fs::create_directories(s.config.output);
  s.log = std::make_unique<MetricsLog>(s.config.output);
  s.setup();
  if (!resume_from.empty()) {
    s.restoreCheckpoint(resume_from);
    s.message("resumed from " + resume_from + " at step " + std::to_string(s.step));
    s.log->writeStart({s.step, "resumed", resume_from});
  } else {
    const std::string text = s.config.toJson();
    AtomicFile file((fs::path(s.config.output) / "config.json").string());
    file.write(text.data(), text.size());
    file.commit();
    s.log->writeStart({0, "started", ""});
  }

  TrainResult result;
  result.total_steps = s.total_steps;
  auto finish = [&](TrainStatus status, const std::string& why) {
    result.status = status;
    result.step = s.step;
    result.message = why;
    result.checkpoint = s.last_checkpoint;
    if (!why.empty()) s.message(why);
    s.log->writeEnd({s.step, trainStatusName(status), why});
    return result;
  };
  auto stopped = [&](const std::string& what) {
    return what + " at step " + std::to_string(s.step + 1) + "; " +
           (s.last_checkpoint.empty() ? std::string("no checkpoint was saved yet") : "the last good checkpoint is " + s.last_checkpoint);
  };

  const auto session_start = std::chrono::steady_clock::now();
  const int64_t session_first_step = s.step;
  std::string phase = "a training step";
  try {
    while (s.step < s.total_steps) {
      while (callbacks.pause && callbacks.pause->load() && !(callbacks.cancel && callbacks.cancel->isCancelled())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (callbacks.cancel && callbacks.cancel->isCancelled()) {
        phase = "saving";
        if (s.last_checkpoint_step != s.step) s.saveCheckpoint();
        result.output_file = s.exportResult();
        return finish(TrainStatus::Cancelled, "cancelled at step " + std::to_string(s.step) + "; saved " + s.last_checkpoint);
      }

      phase = "a training step";
      const auto step_start = std::chrono::steady_clock::now();
      StepOutcome outcome;
      for (auto& p : s.parameters) p.mutable_grad() = at::Tensor();
      for (int micro = 0; micro < s.config.grad_accum; ++micro) {
        const std::vector<size_t> indices = s.batcher->next();
        const std::vector<DatasetItem>& items = s.batcher->items();
        std::vector<Augmentation> augmentations;
        std::vector<std::string> captions;
        for (size_t index : indices) augmentations.push_back(drawAugmentation(items[index], s.data_options, s.data_rng));
        for (size_t index : indices) captions.push_back(processCaption(items[index].caption, s.data_options, s.data_rng));
        const PreparedBatch batch = s.prepareBatch(items, indices, augmentations, captions);
        const int64_t b = batch.mean.size(0);
        // The run's generator draws in a fixed order: latent sample, noise, offset, timesteps.
        const at::Tensor sample_noise = at::randn(batch.mean.sizes(), s.generator);
        at::Tensor noise = at::randn(batch.mean.sizes(), s.generator);
        if (s.config.noise_offset > 0) noise = noise + s.config.noise_offset * at::randn({b, batch.mean.size(1), 1, 1}, s.generator);
        const at::Tensor timesteps = at::randint(0, 1000, {b}, s.generator, at::TensorOptions().dtype(at::kLong));
        const at::Tensor latents =
            ((batch.mean + at::exp(0.5 * batch.logvar) * sample_noise) * s.model_config.vae.scale_factor).to(s.device);
        at::Tensor loss;
        {
          AutocastGuard guard({s.autocast, s.autocast_dtype});
          const diffusion::Conditioning cond = s.conditioning(captions, batch.sizes);
          loss = s.batchLoss(batch, cond, latents, noise.to(s.device), timesteps).mean();
        }
        const double value = loss.item<double>();
        if (!std::isfinite(value)) {
          outcome.kind = StepOutcome::Diverged;
          outcome.why = "the loss became " + std::string(std::isnan(value) ? "NaN" : "infinite");
          break;
        }
        (loss * (s.scaler.scale() / s.config.grad_accum)).backward();
        outcome.loss += value / s.config.grad_accum;
        outcome.images += b;
      }
      if (outcome.kind == StepOutcome::Done) {
        const bool finite = s.scaler.unscale(s.parameters);
        if (!finite && s.scaler.enabled()) {
          s.scaler.update(true);
          outcome.kind = StepOutcome::Skipped;  // fp16 overflow: the step is skipped with a smaller scale
          s.message("step " + std::to_string(s.step + 1) + ": fp16 gradients overflowed; loss scale now " + std::to_string(s.scaler.scale()));
        } else if (!finite) {
          outcome.kind = StepOutcome::Diverged;
          outcome.why = "the gradients became NaN or infinite";
        }
      }
      if (outcome.kind == StepOutcome::Done) {
        outcome.grad_norm = clipGradNorm(s.parameters, s.config.max_grad_norm);
        if (!std::isfinite(outcome.grad_norm)) {
          outcome.kind = StepOutcome::Diverged;
          outcome.why = "the gradient norm became NaN or infinite";
        }
      }
      if (outcome.kind == StepOutcome::Diverged) {
        return finish(TrainStatus::Diverged, stopped("training stopped: " + outcome.why) +
                                                 " (try a lower --lr or --max-grad-norm)");
      }
      const double lr = s.config.lr * lrFactor(s.schedule, s.step, s.total_steps, s.config.warmup);
      if (outcome.kind == StepOutcome::Done) {
        setLearningRate(*s.optimizer, lr);
        s.optimizer->step();
        s.scaler.update(false);
        s.ema.update(s.parameters);
      }
      ++s.step;

      s.smoothed_loss = 0.9 * s.smoothed_loss + 0.1 * outcome.loss;
      ++s.smoothed_count;
      const double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start).count();
      const double step_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
      StepMetrics metrics;
      metrics.step = s.step;
      metrics.total_steps = s.total_steps;
      metrics.epoch = s.batcher->state().epoch;
      metrics.loss = outcome.loss;
      metrics.smoothed_loss = s.smoothed_loss / (1.0 - std::pow(0.9, static_cast<double>(s.smoothed_count)));
      metrics.lr = lr;
      metrics.grad_norm = outcome.grad_norm;
      metrics.images_per_second = step_seconds > 0 ? outcome.images / step_seconds : 0;
      metrics.eta_seconds = now / static_cast<double>(s.step - session_first_step) * static_cast<double>(s.total_steps - s.step);
      s.log->write(metrics);
      if (callbacks.on_step) callbacks.on_step(metrics);

      const bool last = s.step == s.total_steps;
      if (s.config.validate_every > 0 && (s.step % s.config.validate_every == 0 || last)) {
        phase = "validation";
        s.last_validation_loss = s.validationLoss();
        const ValidationMetrics validation{s.step, s.last_validation_loss};
        s.log->write(validation);
        if (callbacks.on_validation) callbacks.on_validation(validation);
      }
      if (s.config.sample_every > 0 && (s.step % s.config.sample_every == 0 || last)) {
        phase = "sampling";
        s.writeSamples();
      }
      if ((s.config.save_every > 0 && s.step % s.config.save_every == 0) || last) {
        phase = "saving";
        if (!s.weightsFinite()) {
          --s.step;  // the step that broke them is not kept
          return finish(TrainStatus::Diverged, stopped("training stopped: the weights became NaN or infinite"));
        }
        s.saveCheckpoint();
      }
    }
    phase = "saving";
    result.output_file = s.exportResult();
    return finish(TrainStatus::Completed, "");
  } catch (const c10::OutOfMemoryError&) {
    return finish(TrainStatus::OutOfMemory, stopped("out of memory during " + phase) + " (try a smaller --batch-size or --resolution, or --grad-checkpointing)");
  } catch (const std::bad_alloc&) {
    return finish(TrainStatus::OutOfMemory, stopped("out of memory during " + phase) + " (try a smaller --batch-size or --resolution, or --grad-checkpointing)");
  } catch (const GessoError& error) {
    return finish(TrainStatus::Failed, stopped("error during " + phase + ": " + error.error().message()));
  } catch (const std::exception& error) {
    // Some LibTorch builds report a CUDA allocation failure as a plain c10::Error.
    if (std::string(error.what()).find("out of memory") != std::string::npos) {
      return finish(TrainStatus::OutOfMemory, stopped("out of memory during " + phase));
    }
    return finish(TrainStatus::Failed, stopped("error during " + phase + ": " + error.what()));
  }
}

}  // namespace gesso::training
