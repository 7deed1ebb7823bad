// The sampler table (name -> function), the sampling entry point with its input checks, the context's hooks and
// the default seeded noise source.
#include "gesso/diffusion/sampler.h"

#include "gesso/error.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>

namespace gesso::diffusion {

SeededNoiseSampler::SeededNoiseSampler(uint64_t seed, std::vector<int64_t> shape, at::TensorOptions result_options)
    : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)), shape_(std::move(shape)), result_options_(result_options) {}

at::Tensor SeededNoiseSampler::next(double, double) {
  // at::randn takes the generator's lock itself.
  return at::randn(shape_, generator_, at::TensorOptions().dtype(at::kFloat)).to(result_options_);
}

at::Tensor SamplerContext::denoise(const at::Tensor& x, double sigma) {
  if (cancel && cancel->isCancelled()) fail(ErrorCode::Cancelled, "sampling was cancelled");
  const at::Tensor sigma_batch = at::full({x.size(0)}, sigma, x.options());  // [B]
  at::Tensor denoised = denoiser(x, sigma_batch);
  if (!denoised.defined() || denoised.sizes() != x.sizes()) {
    std::ostringstream message;
    message << "the denoiser returned shape " << (denoised.defined() ? denoised.sizes() : at::IntArrayRef{}) << " for x of shape "
            << x.sizes();
    fail(ErrorCode::ShapeMismatch, message.str());
  }
  return denoised;
}

at::Tensor SamplerContext::drawNoise(double sigma, double sigma_next) {
  if (!noise_sampler) fail(ErrorCode::InvalidArgument, "sampling needs a noise sampler (sample() provides a seeded one)");
  return noise_sampler->next(sigma, sigma_next);
}

void SamplerContext::report(int step, int total_steps, double sigma, double sigma_hat, const at::Tensor& x,
                            const at::Tensor& denoised) {
  if (on_step) on_step(StepInfo{step, total_steps, sigma, sigma_hat, x, denoised});
}

namespace {
SamplerOptions withHeunSolver(SamplerOptions options) {
  options.sde_solver = SdeSolver::Heun;
  return options;
}
SamplerOptions withBh2(SamplerOptions options) {
  options.unipc_variant = UniPcVariant::Bh2;
  return options;
}
}  // namespace

const std::vector<SamplerEntry>& samplerTable() {
  using N = NoiseUse;
  static const std::vector<SamplerEntry> table{
      {"euler", sampleEuler, N::Deterministic, nullptr},
      {"euler_ancestral", sampleEulerAncestral, N::Stochastic, nullptr},
      {"heun", sampleHeun, N::Deterministic, nullptr},
      {"dpm_2", sampleDpm2, N::Deterministic, nullptr},
      {"dpm_2_ancestral", sampleDpm2Ancestral, N::Stochastic, nullptr},
      {"lms", sampleLms, N::Deterministic, nullptr},
      {"dpmpp_2s_ancestral", sampleDpmpp2sAncestral, N::Stochastic, nullptr},
      {"dpmpp_sde", sampleDpmppSde, N::Stochastic, nullptr},
      {"dpmpp_2m", sampleDpmpp2m, N::Deterministic, nullptr},
      {"dpmpp_2m_sde", sampleDpmpp2mSde, N::Stochastic, nullptr},
      {"dpmpp_2m_sde_heun", sampleDpmpp2mSde, N::Stochastic, withHeunSolver},
      {"dpmpp_3m_sde", sampleDpmpp3mSde, N::Stochastic, nullptr},
      {"ddim", sampleDdim, N::Deterministic, nullptr},  // stochastic only with eta > 0
      {"ddpm", sampleDdpm, N::Stochastic, nullptr},
      {"uni_pc", sampleUniPc, N::Deterministic, nullptr},
      {"uni_pc_bh2", sampleUniPc, N::Deterministic, withBh2},
      {"lcm", sampleLcm, N::Stochastic, nullptr},
      {"ipndm", sampleIpndm, N::Deterministic, nullptr},
  };
  return table;
}

std::vector<std::string> samplerNames() {
  std::vector<std::string> names;
  for (const SamplerEntry& entry : samplerTable()) names.emplace_back(entry.name);
  return names;
}

const SamplerEntry& findSampler(const std::string& name) {
  for (const SamplerEntry& entry : samplerTable()) {
    if (name == entry.name) return entry;
  }
  std::string known;
  for (const std::string& candidate : samplerNames()) known += (known.empty() ? "" : ", ") + candidate;
  fail(ErrorCode::InvalidArgument, "unknown sampler '" + name + "' (known: " + known + ")");
}

at::Tensor sample(const std::string& name, SamplerContext& context, const at::Tensor& x, const at::Tensor& sigmas) {
  const SamplerEntry& entry = findSampler(name);
  if (!context.denoiser) fail(ErrorCode::InvalidArgument, "sample: no denoiser given");
  if (!x.defined() || !x.is_floating_point() || x.dim() < 1 || x.size(0) < 1)
    fail(ErrorCode::InvalidArgument, "sample: x must be a floating-point tensor with a batch dimension");
  if (!sigmas.defined() || sigmas.dim() != 1 || sigmas.size(0) < 1)
    fail(ErrorCode::InvalidArgument, "sample: sigmas must be a 1-D tensor with at least one value");
  const at::Tensor values = sigmas.detach().to(at::kCPU).to(at::kDouble).contiguous();
  std::vector<double> list(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  for (size_t i = 0; i < list.size(); ++i) {
    if (!std::isfinite(list[i])) fail(ErrorCode::InvalidArgument, "sample: sigmas[" + std::to_string(i) + "] is not finite");
    const bool last = i + 1 == list.size();
    if (!(list[i] > 0 || (last && list[i] == 0)))
      fail(ErrorCode::InvalidArgument, "sample: sigmas[" + std::to_string(i) + "] must be positive (only the last may be 0)");
    // Multistep samplers divide by log-sigma differences: repeated sigmas would give NaN.
    if (i > 0 && list[i] >= list[i - 1])
      fail(ErrorCode::InvalidArgument,
           "sample: sigmas must strictly decrease (sigmas[" + std::to_string(i) + "] >= sigmas[" + std::to_string(i - 1) + "])");
  }
  SamplerContext run = context;
  if (entry.adjust) run.options = entry.adjust(run.options);
  if (!run.noise_sampler) run.noise_sampler = std::make_shared<SeededNoiseSampler>(run.noise_seed, x.sizes().vec(), x.options());
  return entry.function(run, x, list);
}

}  // namespace gesso::diffusion
