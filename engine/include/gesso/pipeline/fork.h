// Forks: continue a latent taken part-way through sampling (a compare cell at step k) with another sampler,
// scheduler, step count, CFG or prompt. The fork enters the new schedule at the latent's own noise level.
#pragma once

#include "gesso/image/image.h"
#include "gesso/pipeline/pipeline.h"

#include <ATen/core/Tensor.h>

#include <vector>

namespace gesso::pipeline {

// A latent part-way through a run: x at the start of step `step` (0-based), at noise level `sigma`, and the
// denoised estimate the network gave there (what the preview shows). Tensors are [1, C, h, w] on the CPU.
struct StepLatent {
  int step = 0;
  double sigma = 0;
  at::Tensor x;
  at::Tensor denoised;
};

// Where a fork enters a new schedule `schedule` (descending, ending in 0) from noise level `sigma`.
//
// The choice: splice. The fork runs [sigma, every sigma of the new schedule strictly below it ..., 0]. The latent is
// exactly at `sigma`, so the first step starts from the true noise level. The alternatives are worse:
// - entering at the nearest sigma >= current would tell the sampler the latent is noisier than it is (it then removes
//   noise that is not there: a washed-out, over-smoothed result), or needs fresh noise to lift the latent to that
//   level (a different image, and not reproducible from the parent);
// - rescaling the new schedule to start at `sigma` changes where its steps fall, so "karras, 20 steps" would no
//   longer mean the sigmas a plain run with those settings visits.
// With splicing the fork visits exactly the plain run's sigmas below the entry point, as img2img enters a schedule
// (img2imgStartIndex) but without snapping to a step; so a fork with the parent's own scheduler and steps continues
// on the parent's sigmas, and with a deterministic single-step sampler reproduces the parent (tested).
// A schedule sigma within a relative 1e-5 of `sigma` counts as equal (the step would be empty). The first step may be
// shorter than the schedule's own step there.
struct ForkEntry {
  at::Tensor sigmas;   // float [n + 1]: sigma, then the schedule's sigmas below it
  int start_step = 0;  // the new schedule's step the fork's first step lies in: fork step i is labelled start_step + i
};
ForkEntry forkEntry(const at::Tensor& schedule, double sigma);

struct ForkResult {
  GenerateRequest request;              // as run (the parent's seed: the same inpainting noise and sampler noise seed)
  ForkEntry entry;
  image::Image image;
  std::vector<StepLatent> step_latents;  // the fork's own steps, numbered in the new schedule (forkable again)
  double ms = 0;                         // wall time of the fork
};

// Continues `from` with `request` (its sampler, scheduler, steps, CFG, prompts; its size must be the latent's;
// batch 1; its seed must be set, normally the parent's): the request's schedule, entered at from.sigma (forkEntry).
// Deterministic samplers with the parent's settings reproduce the parent. Multistep samplers (lms, ipndm, dpmpp_2m,
// dpmpp_2m_sde, dpmpp_3m_sde, uni_pc) start their history afresh at the fork, so their first steps there are lower
// order; ancestral and SDE samplers draw their fresh noise from the request's seed anew (the parent's draws before
// step k are not replayed). Step events and previews count steps from 0 within the fork. Throws GessoError.
ForkResult fork(LoadedModel& model, const StepLatent& from, const GenerateRequest& request,
                const GenerateCallbacks& callbacks = {});

}  // namespace gesso::pipeline
