// DPM-Solver++ samplers (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
// Models"), in k-diffusion's sigma form: t = -log(sigma), exponential-integrator steps on the denoised estimate.
#include "gesso/diffusion/sampler.h"

#include "gesso/error.h"
#include "sampler_math.h"

#include <cmath>

namespace gesso::diffusion {
using detail::addAncestralNoise;
using detail::ancestralStep;
using detail::evaluateAncestral;
using detail::stepCount;
using detail::toD;

namespace {
double tOf(double sigma) { return -std::log(sigma); }
double sigmaOf(double t) { return std::exp(-t); }
}  // namespace

// DPM-Solver++(2S) single-step second order with ancestral noise (k-diffusion sample_dpmpp_2s_ancestral).
at::Tensor sampleDpmpp2sAncestral(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(1.0);
  for (int i = 0; i < stepCount(sigmas); ++i) {
    const auto step = evaluateAncestral(context, x, sigmas, i, eta);
    if (step.sigma_down == 0) {
      x = x + toD(x, sigmas[i], step.denoised) * (step.sigma_down - sigmas[i]);
    } else {
      const double t = tOf(sigmas[i]);
      const double t_next = tOf(step.sigma_down);
      const double h = t_next - t;
      const double s = t + 0.5 * h;
      const at::Tensor x_2 = (sigmaOf(s) / sigmaOf(t)) * x - std::expm1(-0.5 * h) * step.denoised;
      const at::Tensor denoised_2 = context.denoise(x_2, sigmaOf(s));
      x = (sigmaOf(t_next) / sigmaOf(t)) * x - std::expm1(-h) * denoised_2;
    }
    x = addAncestralNoise(context, x, sigmas[i], sigmas[i + 1], step.sigma_up);
  }
  return x;
}

// DPM-Solver++ stochastic, two stages per step with noise injected at both (k-diffusion sample_dpmpp_sde).
at::Tensor sampleDpmppSde(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(1.0);
  const double r = context.options.sde_r;
  if (!(r > 0 && r < 1)) fail(ErrorCode::InvalidArgument, "dpmpp_sde: r must be in (0, 1)");
  const double s_noise = context.options.s_noise;
  const int steps = stepCount(sigmas);
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    if (sigmas[i + 1] == 0) {
      x = x + toD(x, sigmas[i], denoised) * (sigmas[i + 1] - sigmas[i]);
      continue;
    }
    const double t = tOf(sigmas[i]);
    const double t_next = tOf(sigmas[i + 1]);
    const double h = t_next - t;
    const double s = t + h * r;
    const double fac = 1 / (2 * r);
    // Stage 1: to the intermediate point s.
    const auto step_1 = ancestralStep(sigmaOf(t), sigmaOf(s), eta);
    const double s_ = tOf(step_1.down);
    at::Tensor x_2 = (sigmaOf(s_) / sigmaOf(t)) * x - std::expm1(t - s_) * denoised;
    x_2 = x_2 + context.drawNoise(sigmaOf(t), sigmaOf(s)) * s_noise * step_1.up;
    const at::Tensor denoised_2 = context.denoise(x_2, sigmaOf(s));
    // Stage 2: the full step with the blended estimate.
    const auto step_2 = ancestralStep(sigmaOf(t), sigmaOf(t_next), eta);
    const double t_next_ = tOf(step_2.down);
    const at::Tensor denoised_d = (1 - fac) * denoised + fac * denoised_2;
    x = (sigmaOf(t_next_) / sigmaOf(t)) * x - std::expm1(t - t_next_) * denoised_d;
    x = x + context.drawNoise(sigmaOf(t), sigmaOf(t_next)) * s_noise * step_2.up;
  }
  return x;
}

// DPM-Solver++(2M) multistep second order (k-diffusion sample_dpmpp_2m).
at::Tensor sampleDpmpp2m(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const int steps = stepCount(sigmas);
  at::Tensor old_denoised;
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    if (sigmas[i + 1] == 0) {
      x = denoised;  // the exponential step to sigma = 0 lands on the denoised estimate
    } else {
      const double t = tOf(sigmas[i]);
      const double t_next = tOf(sigmas[i + 1]);
      const double h = t_next - t;
      at::Tensor estimate = denoised;
      if (old_denoised.defined()) {
        const double r = (t - tOf(sigmas[i - 1])) / h;
        estimate = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised;
      }
      x = (sigmaOf(t_next) / sigmaOf(t)) * x - std::expm1(-h) * estimate;
    }
    old_denoised = denoised;
  }
  return x;
}

// DPM-Solver++(2M) SDE with midpoint or Heun correction (k-diffusion sample_dpmpp_2m_sde).
at::Tensor sampleDpmpp2mSde(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(1.0);
  const int steps = stepCount(sigmas);
  at::Tensor old_denoised;
  double h_last = 0;
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    double h = h_last;
    if (sigmas[i + 1] == 0) {
      x = denoised;
    } else {
      h = std::log(sigmas[i]) - std::log(sigmas[i + 1]);
      const double eta_h = eta * h;
      const double phi = -std::expm1(-h - eta_h);
      x = (sigmas[i + 1] / sigmas[i] * std::exp(-eta_h)) * x + phi * denoised;
      if (old_denoised.defined()) {
        const double r = h_last / h;
        if (context.options.sde_solver == SdeSolver::Heun)
          x = x + ((phi / (-h - eta_h) + 1) * (1 / r)) * (denoised - old_denoised);
        else
          x = x + (0.5 * phi * (1 / r)) * (denoised - old_denoised);
      }
      if (eta != 0)
        x = x + context.drawNoise(sigmas[i], sigmas[i + 1]) *
                    (sigmas[i + 1] * std::sqrt(-std::expm1(-2 * eta_h)) * context.options.s_noise);
    }
    old_denoised = denoised;
    h_last = h;
  }
  return x;
}

// DPM-Solver++(3M) SDE, third-order multistep (k-diffusion sample_dpmpp_3m_sde).
at::Tensor sampleDpmpp3mSde(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const double eta = context.options.eta.value_or(1.0);
  const int steps = stepCount(sigmas);
  at::Tensor denoised_1, denoised_2;
  double h = 0, h_1 = 0, h_2 = 0;
  int history = 0;  // how many of h_1, h_2 are set
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    if (sigmas[i + 1] == 0) {
      x = denoised;
    } else {
      h = std::log(sigmas[i]) - std::log(sigmas[i + 1]);
      const double h_eta = h * (eta + 1);
      x = std::exp(-h_eta) * x + (-std::expm1(-h_eta)) * denoised;
      if (history >= 2) {
        const double r0 = h_1 / h;
        const double r1 = h_2 / h;
        const at::Tensor d1_0 = (denoised - denoised_1) / r0;
        const at::Tensor d1_1 = (denoised_1 - denoised_2) / r1;
        const at::Tensor d1 = d1_0 + (d1_0 - d1_1) * (r0 / (r0 + r1));
        const at::Tensor d2 = (d1_0 - d1_1) / (r0 + r1);
        const double phi_2 = std::expm1(-h_eta) / h_eta + 1;
        const double phi_3 = phi_2 / h_eta - 0.5;
        x = x + phi_2 * d1 - phi_3 * d2;
      } else if (history == 1) {
        const double r = h_1 / h;
        const at::Tensor d = (denoised - denoised_1) / r;
        const double phi_2 = std::expm1(-h_eta) / h_eta + 1;
        x = x + phi_2 * d;
      }
      if (eta != 0)
        x = x + context.drawNoise(sigmas[i], sigmas[i + 1]) *
                    (sigmas[i + 1] * std::sqrt(-std::expm1(-2 * h * eta)) * context.options.s_noise);
    }
    denoised_2 = denoised_1;
    denoised_1 = denoised;
    h_2 = h_1;
    h_1 = h;
    history = std::min(history + 1, 2);
  }
  return x;
}

}  // namespace gesso::diffusion
