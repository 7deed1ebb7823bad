// Classifier-free guidance (Ho & Salimans 2022) over a Denoiser, with the conditional and unconditional halves in
// one network call, and CFG rescale (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed").
#pragma once

#include "gesso/diffusion/denoiser.h"

#include <ATen/core/Tensor.h>

namespace gesso::diffusion {

struct GuidanceOptions {
  double cfg_scale = 7.5;  // 1 = the conditional prediction alone (and no unconditional evaluation)
  double rescale = 0.0;    // φ in [0, 1]: how much of the std-matched prediction to mix in; 0 disables it
};

// u + (c − u)·scale. Applied to denoised (x0) predictions, which equals guiding eps or v: both are affine in x0
// for a fixed x and σ.
at::Tensor combineGuidance(const at::Tensor& uncond_denoised, const at::Tensor& cond_denoised, double cfg_scale);

// CFG rescale as ComfyUI's RescaleCFG node does it: whatever the model predicts, the guided and conditional x0 are
// taken to v-space (v = (x/(σ²+1) − x0)·√(σ²+1)/σ), the guided v is scaled per sample to the conditional v's
// standard deviation (unbiased, over all but the batch dimension), mixed with the unscaled one by φ, and taken back
// to x0. diffusers' `rescale_noise_cfg` does the same on the model's own output (eps for eps models), so the two
// agree for v-prediction models only. Samples at σ = 0 (or with a constant guided v) are returned unchanged.
// guided, cond_denoised, x [B, ...]; sigma [B].
at::Tensor rescaleGuidance(const at::Tensor& guided_denoised, const at::Tensor& cond_denoised, const at::Tensor& x,
                           const at::Tensor& sigma, double rescale);

// D(x, σ) with guidance, for the samplers: x [B, C, H, W], sigma [B] or a scalar -> guided denoised [B, C, H, W].
// The network sees cat([x, x]) with contexts cat([uncond, cond]) (in that order). Conditioning with batch 1 is
// repeated over B. Both prompts must have the same number of tokens (the prompt encoder equalises them); the
// unconditional side may leave `concat` undefined to share the conditional one (inpainting channels).
class GuidedDenoiser {
 public:
  GuidedDenoiser(Denoiser denoiser, Conditioning cond, Conditioning uncond, GuidanceOptions options);

  at::Tensor operator()(const at::Tensor& x, const at::Tensor& sigma) const;

  const GuidanceOptions& options() const { return options_; }
  const Denoiser& denoiser() const { return denoiser_; }

 private:
  Denoiser denoiser_;
  Conditioning cond_;
  Conditioning uncond_;
  GuidanceOptions options_;
};

}  // namespace gesso::diffusion
