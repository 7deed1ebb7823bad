// Samplers over a denoiser D(x, sigma) with k-diffusion's semantics, named as ComfyUI names them, and their registry.
// Each sampler is a short free function (see samplers_*.cpp); noise, progress and cancellation travel in the context.
#pragma once

#include "gesso/cancel_token.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gesso::diffusion {

// The denoised estimate of x at noise level sigma; sigma has shape [B] and x's dtype and device.
using DenoiseFunction = std::function<at::Tensor(const at::Tensor& x, const at::Tensor& sigma)>;

// The source of the fresh noise that ancestral and SDE samplers inject, one draw per call, in call order.
class NoiseSampler {
 public:
  virtual ~NoiseSampler() = default;
  // A standard-normal tensor shaped like the latent, for the move from sigma to sigma_next.
  virtual at::Tensor next(double sigma, double sigma_next) = 0;
};

// The default: a CPU generator seeded per request, drawing float32 randn of the latent's shape (then moved to the
// latent's dtype and device), as ComfyUI does. Never the global RNG.
class SeededNoiseSampler : public NoiseSampler {
 public:
  SeededNoiseSampler(uint64_t seed, std::vector<int64_t> shape, at::TensorOptions result_options);
  at::Tensor next(double sigma, double sigma_next) override;

 private:
  at::Generator generator_;
  std::vector<int64_t> shape_;
  at::TensorOptions result_options_;
};

// What a step reports: x at the start of step `step` (0-based), the sigma it started from, the (churned) sigma the
// denoiser saw, and the denoised estimate.
struct StepInfo {
  int step = 0;
  int total_steps = 0;
  double sigma = 0;
  double sigma_hat = 0;
  at::Tensor x;
  at::Tensor denoised;
};
using StepCallback = std::function<void(const StepInfo&)>;

enum class SdeSolver { Midpoint, Heun };  // dpmpp_2m_sde's second-order correction
enum class UniPcVariant { Bh1, Bh2 };     // UniPC's B(h): h (bh1, ComfyUI "uni_pc") or e^h - 1 (bh2, "uni_pc_bh2")

struct SamplerOptions {
  std::optional<double> eta;  // unset: 1 for ancestral/SDE samplers, 0 for ddim
  double s_noise = 1.0;       // scale of injected noise
  double s_churn = 0.0;       // euler/heun/dpm_2 churn (Karras et al. Alg. 2); 0 = deterministic
  double s_tmin = 0.0;
  double s_tmax = std::numeric_limits<double>::infinity();
  int lms_order = 4;    // 1..8
  int ipndm_order = 4;  // 1..4
  double sde_r = 0.5;   // dpmpp_sde: intermediate point in log-sigma
  SdeSolver sde_solver = SdeSolver::Midpoint;
  UniPcVariant unipc_variant = UniPcVariant::Bh1;
  int unipc_order = 3;  // 1..3
};

struct SamplerContext {
  DenoiseFunction denoiser;                         // required
  std::shared_ptr<NoiseSampler> noise_sampler;  // unset: SeededNoiseSampler(noise_seed, x's shape)
  uint64_t noise_seed = 0;
  StepCallback on_step;                 // optional
  const CancelToken* cancel = nullptr;  // optional, checked before every denoiser call; must outlive the run
  SamplerOptions options;

  // Throws GessoError(Cancelled) if cancelled, then calls the denoiser with sigma as a [B] tensor.
  at::Tensor denoise(const at::Tensor& x, double sigma);
  at::Tensor drawNoise(double sigma, double sigma_next);
  void report(int step, int total_steps, double sigma, double sigma_hat, const at::Tensor& x, const at::Tensor& denoised);
};

// A sampler integrates from sigmas.front() to sigmas.back() (strictly descending; only the last may be 0).
using SamplerFunction = at::Tensor (*)(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);

// Euler family (samplers_euler.cpp).
at::Tensor sampleEuler(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleEulerAncestral(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleHeun(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleDpm2(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleDpm2Ancestral(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
// Linear multistep family (samplers_multistep.cpp).
at::Tensor sampleLms(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleIpndm(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
// The integral over [t[i], t[i+1]] of the Lagrange basis polynomial j on t[i], t[i-1], ..., t[i-order+1].
double linearMultistepCoefficient(int order, const std::vector<double>& t, int i, int j);
// DPM-Solver++ family (samplers_dpmpp.cpp).
at::Tensor sampleDpmpp2sAncestral(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleDpmppSde(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleDpmpp2m(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleDpmpp2mSde(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleDpmpp3mSde(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
// DDIM/DDPM/LCM (samplers_ddim.cpp).
at::Tensor sampleDdim(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleDdpm(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
at::Tensor sampleLcm(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);
// UniPC (samplers_unipc.cpp).
at::Tensor sampleUniPc(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas);

// The registry (sampler_registry.cpp).
enum class NoiseUse { Deterministic, Stochastic };  // Stochastic: draws from the noise sampler
struct SamplerEntry {
  const char* name;
  SamplerFunction function;
  NoiseUse noise;
  SamplerOptions (*adjust)(SamplerOptions);  // per-name presets (e.g. dpmpp_2m_sde_heun), or nullptr
};
const std::vector<SamplerEntry>& samplerTable();
std::vector<std::string> samplerNames();
const SamplerEntry& findSampler(const std::string& name);  // InvalidArgument naming the known samplers otherwise
// Validates x and sigmas (1-D, finite, strictly decreasing, positive except a final 0) and runs the named sampler.
at::Tensor sample(const std::string& name, SamplerContext& context, const at::Tensor& x, const at::Tensor& sigmas);

}  // namespace gesso::diffusion
