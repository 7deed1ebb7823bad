// The network as a denoiser D(x, σ) ≈ E[x0 | x] for the samplers, and the matching training input and target:
// one place owns the preconditioning (k-diffusion's Denoiser.forward/loss, sgm's Denoiser + DiscreteDenoiser).
#pragma once

#include "gesso/diffusion/scalings.h"
#include "gesso/models/unet.h"

#include <ATen/core/Tensor.h>

#include <functional>

namespace gesso::diffusion {

// What the network sees besides the noisy latent. Batch sizes match the latent's.
struct Conditioning {
  at::Tensor crossattn;  // [B, T, D] text-encoder tokens (cross-attention context)
  at::Tensor vector;     // [B, adm] pooled text + size embeddings (SDXL), or undefined
  at::Tensor concat;     // [B, C', H, W] channels appended to the scaled latent (inpainting models), or undefined
};

// One network evaluation: x_in [B, C, H, W] (already scaled by c_in), timestep [B] (c_noise) -> [B, C, H, W].
using NetworkFunction =
    std::function<at::Tensor(const at::Tensor& x_in, const at::Tensor& timestep, const Conditioning& conditioning)>;

// sgm's OpenAIWrapper: cat(x_in, concat) along channels, context = crossattn, y = vector. Inputs are cast to the
// UNet's parameter dtype and the output back to x_in's dtype.
NetworkFunction unetNetwork(models::UNet unet);

// How σ becomes the network's noise input c_noise.
enum class NoiseCondition {
  // t(σ) by linear interpolation in log σ over the training sigmas, as a float (k-diffusion CompVisDenoiser,
  // quantize=False; AUTOMATIC1111's default).
  InterpolatedTimestep,
  // The index of the training sigma nearest in log σ, as a float; σ itself stays as given (ComfyUI's
  // ModelSamplingDiscrete, k-diffusion quantize=True).
  NearestTimestep,
  // sgm DiscreteDenoiser: σ is replaced by the training sigma nearest in σ (so the scalings use it too) and that
  // sigma's int64 index is the timestep.
  QuantizedSigma,
  // EDM: ¼·ln σ.
  LogSigma,
};

struct DenoiserOptions {
  Parameterization parameterization = Parameterization::Epsilon;
  NoiseCondition noise_condition = NoiseCondition::InterpolatedTimestep;
  double sigma_data = 1.0;

  static DenoiserOptions epsilon() { return {}; }
  static DenoiserOptions velocity() { return {Parameterization::Velocity, NoiseCondition::InterpolatedTimestep, 1.0}; }
  static DenoiserOptions edm() { return {Parameterization::Edm, NoiseCondition::LogSigma, 0.5}; }
};

// What a training step feeds the network and compares its output with (k-diffusion Denoiser.loss semantics).
struct TrainingExample {
  at::Tensor noised;       // x0 + σ·noise
  at::Tensor model_input;  // c_in·noised
  at::Tensor timestep;     // c_noise(σ)
  at::Tensor target;       // (x0 − c_skip·noised)/c_out: the noise for eps, v for v-prediction, F for EDM
};

class Denoiser {
 public:
  // training_sigmas: the model's discrete noise levels, ascending ([1000] for SD); undefined means the SD legacy
  // DDPM schedule (scaled-linear betas 0.00085 -> 0.012). Only the timestep noise conditions use them.
  // For a UNet: Denoiser(unetNetwork(unet), options). (No UNet overload: ModuleHolder's catch-all call operator
  // makes std::function's constructor test ill-formed instead of failing quietly.)
  explicit Denoiser(NetworkFunction network, DenoiserOptions options = {}, at::Tensor training_sigmas = {});

  // x [B, C, H, W], sigma [B] or a scalar -> denoised [B, C, H, W] = c_skip·x + c_out·net(c_in·x, c_noise, cond).
  at::Tensor operator()(const at::Tensor& x, const at::Tensor& sigma, const Conditioning& conditioning) const;

  // The σ the scalings use: the nearest training sigma under QuantizedSigma, σ itself otherwise.
  at::Tensor effectiveSigma(const at::Tensor& sigma) const;
  // c_noise for σ (after effectiveSigma): float timesteps, int64 indices (QuantizedSigma) or ¼·ln σ.
  at::Tensor noiseCondition(const at::Tensor& sigma) const;
  // k-diffusion's sigma_to_t: fractional timestep by log-σ interpolation, clamped to [0, N−1].
  at::Tensor sigmaToTimestep(const at::Tensor& sigma) const;
  // Index of the nearest training sigma by |log σ − log σ_i| (ComfyUI) or by |σ − σ_i| (sgm), as int64.
  at::Tensor nearestIndexLogSigma(const at::Tensor& sigma) const;
  at::Tensor nearestIndexSigma(const at::Tensor& sigma) const;

  // For training: noised input, model input, timestep and regression target for x0, noise [B, ...], σ [B].
  TrainingExample trainingExample(const at::Tensor& x0, const at::Tensor& noise, const at::Tensor& sigma) const;
  // Per-sample mean squared error between the network output and the target (unweighted) -> [B].
  at::Tensor loss(const at::Tensor& x0, const at::Tensor& noise, const at::Tensor& sigma,
                  const Conditioning& conditioning) const;

  const DenoiserOptions& options() const { return options_; }
  // Ascending float32 [N].
  const at::Tensor& trainingSigmas() const { return sigmas_; }
  double sigmaMin() const;
  double sigmaMax() const;

 private:
  // σ as [B] (a scalar or [1] is expanded) in float32 or float64 on x's device; checks batch and sign.
  at::Tensor batchSigma(const at::Tensor& sigma, const at::Tensor& x) const;

  NetworkFunction network_;
  DenoiserOptions options_;
  at::Tensor sigmas_;      // float32 [N], ascending
  at::Tensor log_sigmas_;  // float64 [N]
};

}  // namespace gesso::diffusion
