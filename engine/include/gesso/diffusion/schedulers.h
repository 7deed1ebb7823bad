// Noise schedules ("schedulers" in ComfyUI's words): n sampling steps -> n+1 descending sigmas ending in 0.
// Names and definitions follow ComfyUI (comfy/samplers.py, comfy_extras) and k-diffusion.
#pragma once

#include "gesso/diffusion/discretization.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace gesso::diffusion {

// k-diffusion get_sigmas_karras (Karras et al. 2022, "Elucidating the Design Space...", eq. 5).
at::Tensor karrasSigmas(int n, double sigma_min, double sigma_max, double rho = 7.0);
// k-diffusion get_sigmas_exponential: uniform in log sigma.
at::Tensor exponentialSigmas(int n, double sigma_min, double sigma_max);
// ComfyUI kl_optimal (Sabour et al. 2024, "Align Your Steps", KL-optimal schedule): uniform in atan(sigma).
at::Tensor klOptimalSigmas(int n, double sigma_min, double sigma_max);
// k-diffusion DiscreteSchedule.get_sigmas / ComfyUI "normal": timesteps linspace(T-1, 0, n), log-sigma interpolated.
at::Tensor normalSigmas(const DiscreteSchedule& schedule, int n);
// ComfyUI "sgm_uniform": timesteps linspace(T-1, 0, n+1) without the last.
at::Tensor sgmUniformSigmas(const DiscreteSchedule& schedule, int n);
// ComfyUI "simple": every (T/n)-th training sigma from the top.
at::Tensor simpleSigmas(const DiscreteSchedule& schedule, int n);
// ComfyUI "ddim_uniform": training sigmas at 1, 1+T//n, 1+2(T//n), ... reversed (as DDIM's uniform skip). Like
// ComfyUI, when T is not a multiple of n this can give more than n steps (e.g. 8 steps for n = 7).
at::Tensor ddimUniformSigmas(const DiscreteSchedule& schedule, int n);
// ComfyUI "beta" (Lee et al. 2024, "Beta Sampling is All You Need"): timesteps at the Beta(alpha, beta) quantiles of
// 1 - linspace(0, 1, n, endpoint=False), rounded; like ComfyUI, repeated timesteps are dropped (only for large n).
at::Tensor betaSigmas(const DiscreteSchedule& schedule, int n, double alpha = 0.6, double beta = 0.6);
// Align Your Steps (Sabour et al. 2024): NVIDIA's published 10-step sigmas, log-linearly interpolated to n steps.
enum class AysModel { SD1, SDXL };
at::Tensor alignYourStepsSigmas(AysModel model, int n);
const std::vector<double>& alignYourStepsPublished(AysModel model);  // the 11 published noise levels

// The inverse CDF of Beta(a, b) (the regularized incomplete beta inverse), by bisection on the continued fraction.
double betaQuantile(double p, double a, double b);
double regularizedIncompleteBeta(double x, double a, double b);

// The registry: name -> function over the model's discrete schedule.
struct SchedulerContext {
  const DiscreteSchedule* schedule = nullptr;  // the model's training sigmas (required)
  AysModel ays_model = AysModel::SD1;          // which published Align-Your-Steps list applies
};
using SchedulerFunction = at::Tensor (*)(const SchedulerContext& context, int n);
struct SchedulerEntry {
  const char* name;
  SchedulerFunction function;
};
const std::vector<SchedulerEntry>& schedulerTable();
std::vector<std::string> schedulerNames();
// n+1 (see ddim_uniform/beta) descending float32 sigmas ending in 0; InvalidArgument naming the valid names otherwise.
at::Tensor makeSigmas(const std::string& name, const SchedulerContext& context, int n);

}  // namespace gesso::diffusion
