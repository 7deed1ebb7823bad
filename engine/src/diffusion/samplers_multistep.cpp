// Linear multistep samplers: LMS (k-diffusion) and iPNDM (ComfyUI), reusing past derivatives for higher order.
#include "gesso/diffusion/sampler.h"

#include "gesso/error.h"
#include "sampler_math.h"

#include <array>
#include <cmath>
#include <deque>
#include <string>

namespace gesso::diffusion {
using detail::stepCount;
using detail::toD;

namespace {

// Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n); 8 points integrate degree <= 15 exactly.
constexpr int kGaussPoints = 8;
struct GaussLegendre {
  std::array<double, kGaussPoints> nodes{};
  std::array<double, kGaussPoints> weights{};
  GaussLegendre() {
    const double pi = std::acos(-1.0);
    for (int k = 0; k < kGaussPoints; ++k) {
      double x = std::cos(pi * (k + 0.75) / (kGaussPoints + 0.5));
      double derivative = 0;
      for (int iteration = 0; iteration < 100; ++iteration) {
        double p0 = 1.0, p1 = x;  // P_0, P_1, then the recurrence up to P_n
        for (int n = 2; n <= kGaussPoints; ++n) {
          const double p2 = ((2.0 * n - 1) * x * p1 - (n - 1.0) * p0) / n;
          p0 = p1;
          p1 = p2;
        }
        derivative = kGaussPoints * (x * p1 - p0) / (x * x - 1);
        const double step = p1 / derivative;
        x -= step;
        if (std::fabs(step) < 1e-16) break;
      }
      nodes[k] = x;
      weights[k] = 2.0 / ((1 - x * x) * derivative * derivative);
    }
  }
};

}  // namespace

double linearMultistepCoefficient(int order, const std::vector<double>& t, int i, int j) {
  if (order - 1 > i)
    fail(ErrorCode::InvalidArgument, "lms: order " + std::to_string(order) + " is too high for step " + std::to_string(i));
  static const GaussLegendre rule;
  const double a = t[i];
  const double b = t[i + 1];
  double integral = 0;
  for (int q = 0; q < kGaussPoints; ++q) {
    const double tau = 0.5 * (b - a) * rule.nodes[q] + 0.5 * (a + b);
    double product = 1.0;  // Lagrange basis j over the nodes t[i], t[i-1], ..., t[i-order+1]
    for (int k = 0; k < order; ++k) {
      if (k == j) continue;
      product *= (tau - t[i - k]) / (t[i - j] - t[i - k]);
    }
    integral += rule.weights[q] * product;
  }
  return 0.5 * (b - a) * integral;
}

// Linear multistep (Adams-Bashforth on non-uniform sigmas): the derivative's Lagrange interpolant over the last
// `order` steps integrated exactly (k-diffusion sample_lms; Karras et al. 2022 discuss it as "LMS").
at::Tensor sampleLms(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const int order = context.options.lms_order;
  if (order < 1 || order > 8) fail(ErrorCode::InvalidArgument, "lms: order must be in [1, 8], got " + std::to_string(order));
  const int steps = stepCount(sigmas);
  std::deque<at::Tensor> derivatives;  // newest last
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    derivatives.push_back(toD(x, sigmas[i], denoised));
    if (static_cast<int>(derivatives.size()) > order) derivatives.pop_front();
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    const int current_order = std::min(i + 1, order);
    at::Tensor update;
    for (int j = 0; j < current_order; ++j) {
      const at::Tensor term = derivatives[derivatives.size() - 1 - j] * linearMultistepCoefficient(current_order, sigmas, i, j);
      update = update.defined() ? update + term : term;
    }
    x = x + update;
  }
  return x;
}

// Improved PNDM (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator", iPNDM):
// Adams-Bashforth with fixed uniform-step coefficients over up to 4 past derivatives (ComfyUI sample_ipndm).
at::Tensor sampleIpndm(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas) {
  const int max_order = context.options.ipndm_order;
  if (max_order < 1 || max_order > 4)
    fail(ErrorCode::InvalidArgument, "ipndm: order must be in [1, 4], got " + std::to_string(max_order));
  const int steps = stepCount(sigmas);
  std::deque<at::Tensor> history;  // past derivatives, newest last, at most max_order - 1
  for (int i = 0; i < steps; ++i) {
    const at::Tensor denoised = context.denoise(x, sigmas[i]);
    context.report(i, steps, sigmas[i], sigmas[i], x, denoised);
    const at::Tensor d = toD(x, sigmas[i], denoised);
    const double dt = sigmas[i + 1] - sigmas[i];
    const int order = std::min(max_order, i + 1);
    const auto back = [&](int k) -> const at::Tensor& { return history[history.size() - k]; };
    if (order == 1) {
      x = x + d * dt;
    } else if (order == 2) {
      x = x + (3 * d - back(1)) / 2 * dt;
    } else if (order == 3) {
      x = x + (23 * d - 16 * back(1) + 5 * back(2)) / 12 * dt;
    } else {
      x = x + (55 * d - 59 * back(1) + 37 * back(2) - 9 * back(3)) / 24 * dt;
    }
    history.push_back(d);
    if (static_cast<int>(history.size()) > max_order - 1) history.pop_front();
  }
  return x;
}

}  // namespace gesso::diffusion
