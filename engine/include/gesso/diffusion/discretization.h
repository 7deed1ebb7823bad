// The discrete DDPM noise schedule of Stable Diffusion (1000 training timesteps) and sigma <-> timestep conversion,
// as k-diffusion's DiscreteSchedule and sgm's LegacyDDPMDiscretization define them. No network involved.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace gesso::diffusion {

// Scaled-linear betas: linspace(sqrt(linear_start), sqrt(linear_end), timesteps)^2, in float64 (LDM "linear").
std::vector<double> scaledLinearBetas(int timesteps = 1000, double linear_start = 0.00085, double linear_end = 0.012);
// cumprod(1 - betas) in float64.
std::vector<double> alphasCumprod(const std::vector<double>& betas);
// Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed": shifts and scales sqrt(alphas_cumprod)
// so the last timestep has zero SNR. An exact 0 would make the last sigma infinite, so the last value becomes
// `terminal_alphas_cumprod` (ComfyUI uses 4.8973451890853435e-08, i.e. sigma_max ~ 4519).
std::vector<double> rescaleZeroTerminalSnr(const std::vector<double>& alphas_cumprod,
                                           double terminal_alphas_cumprod = 4.8973451890853435e-08);

// The model's table of training sigmas (ascending with the timestep index), as the model sees them.
class DiscreteSchedule {
 public:
  // sigmas = sqrt((1 - ac) / ac), computed in float32 from float32 alphas_cumprod as k-diffusion and ComfyUI do.
  explicit DiscreteSchedule(const std::vector<double>& alphas_cumprod);
  // Stable Diffusion's schedule: scaled-linear betas 0.00085 -> 0.012 over 1000 steps (k-diffusion, ComfyUI).
  static DiscreteSchedule stableDiffusion();
  // A table of ascending sigmas as given (alphas_cumprod = 1 / (1 + sigma^2)).
  static DiscreteSchedule fromSigmas(const at::Tensor& ascending_sigmas);
  // sgm's DiscreteDenoiser table: LegacyDDPMDiscretization(1000) ascending (float64 ratio, float32 sqrt); it differs
  // from stableDiffusion() by float32 rounding only.
  static DiscreteSchedule sgmLegacy();

  int64_t size() const { return sigmas_.size(0); }
  const at::Tensor& sigmas() const { return sigmas_; }                 // float32 [T], ascending
  const at::Tensor& logSigmas() const { return log_sigmas_; }          // float32 [T]
  const at::Tensor& alphasCumprod() const { return alphas_cumprod_; }  // float32 [T]
  double sigmaMin() const;
  double sigmaMax() const;
  double sigmaAt(int64_t index) const;

  // k-diffusion `sigma_to_t`: fractional timestep by linear interpolation of log sigma (clamped to [0, T-1]).
  at::Tensor sigmaToTimestep(const at::Tensor& sigma) const;
  // The index of the nearest training sigma, int64: by log-sigma distance (k-diffusion quantize=True, ComfyUI
  // `timestep`) or by plain sigma distance (sgm DiscreteDenoiser.sigma_to_idx).
  enum class Distance { LogSigma, Sigma };
  at::Tensor sigmaToNearestIndex(const at::Tensor& sigma, Distance distance = Distance::LogSigma) const;
  // k-diffusion `t_to_sigma` / ComfyUI `sigma(t)`: exp of the log-sigma interpolated at fractional t (clamped).
  at::Tensor timestepToSigma(const at::Tensor& timestep) const;

 private:
  at::Tensor alphas_cumprod_;
  at::Tensor sigmas_;
  at::Tensor log_sigmas_;

  DiscreteSchedule() = default;
};

// sgm LegacyDDPMDiscretization()(n): the sigmas at timesteps int(linspace(T-1, 0, n, endpoint=False)) reversed,
// computed as float32(sqrt-free ratio in float64) then sqrt in float32, descending, with a 0 appended if asked.
enum class AppendZero { No, Yes };
at::Tensor legacyDdpmDiscretization(int n, const std::vector<double>& alphas_cumprod, AppendZero append = AppendZero::Yes);
at::Tensor legacyDdpmDiscretization(int n, AppendZero append = AppendZero::Yes);

}  // namespace gesso::diffusion
