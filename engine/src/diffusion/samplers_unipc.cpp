// UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models"):
// multistep data-prediction predictor (UniP) and corrector (UniC), B(h) variants bh1/bh2, as ComfyUI runs it.
#include "gesso/diffusion/sampler.h"

#include "gesso/error.h"
#include "sampler_math.h"

#include <cmath>
#include <string>
#include <vector>

namespace gesso::diffusion {
using detail::stepCount;

namespace {

// Solves the small dense system a * x = b (n <= 3) by Gaussian elimination with partial pivoting.
std::vector<double> solve(std::vector<std::vector<double>> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t row = col + 1; row < n; ++row)
      if (std::fabs(a[row][col]) > std::fabs(a[pivot][col])) pivot = row;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    if (a[col][col] == 0) fail(ErrorCode::Internal, "uni_pc: singular coefficient system (repeated sigmas?)");
    for (size_t row = col + 1; row < n; ++row) {
      const double factor = a[row][col] / a[col][col];
      for (size_t k = col; k < n; ++k) a[row][k] -= factor * a[col][k];
      b[row] -= factor * b[col];
    }
  }
  std::vector<double> x(n);
  for (size_t row = n; row-- > 0;) {
    double sum = b[row];
    for (size_t k = row + 1; k < n; ++k) sum -= a[row][k] * x[k];
    x[row] = sum / a[row][row];
  }
  return x;
}

enum class Corrector { Skip, Run };

struct UniPcUpdate {
  at::Tensor x;
  at::Tensor model;  // the denoiser's output at the new sigma when the corrector ran, else undefined
};

// One UniPC step of `order` from the newest history entry to sigma_t, in sigma space: lambda = -log(sigma).
// model_history/sigma_history hold the past data predictions and their sigmas, newest last.
UniPcUpdate uniPcStep(SamplerContext& context, const at::Tensor& x, const std::vector<at::Tensor>& model_history,
                      const std::vector<double>& sigma_history, double sigma_t, int order, Corrector corrector) {
  const at::Tensor& model_0 = model_history.back();
  const double sigma_0 = sigma_history.back();
  const double h = std::log(sigma_0) - std::log(sigma_t);  // lambda_t - lambda_0

  std::vector<double> rks;
  std::vector<at::Tensor> d1s;
  for (int i = 1; i < order; ++i) {
    const double sigma_i = sigma_history[sigma_history.size() - 1 - i];
    const double rk = (std::log(sigma_0) - std::log(sigma_i)) / h;
    rks.push_back(rk);
    d1s.push_back((model_history[model_history.size() - 1 - i] - model_0) / rk);
  }
  rks.push_back(1.0);

  const double hh = -h;  // data prediction
  const double h_phi_1 = std::expm1(hh);
  const double b_h = context.options.unipc_variant == UniPcVariant::Bh1 ? hh : std::expm1(hh);
  std::vector<std::vector<double>> r(order, std::vector<double>(order));
  std::vector<double> b(order);
  double h_phi_k = h_phi_1 / hh - 1;
  double factorial = 1;
  for (int i = 1; i <= order; ++i) {
    for (int k = 0; k < order; ++k) r[i - 1][k] = std::pow(rks[k], i - 1);
    b[i - 1] = h_phi_k * factorial / b_h;
    factorial *= i + 1;
    h_phi_k = h_phi_k / hh - 1 / factorial;
  }

  // First-order DPM-Solver++ part, then the higher-order corrections.
  const at::Tensor x_first = (sigma_t / sigma_0) * x - h_phi_1 * model_0;
  at::Tensor x_t = x_first;
  if (!d1s.empty()) {
    std::vector<double> rhos_p;
    if (order == 2) {
      rhos_p = {0.5};
    } else {
      std::vector<std::vector<double>> r_p(order - 1, std::vector<double>(order - 1));
      for (int i = 0; i < order - 1; ++i)
        for (int k = 0; k < order - 1; ++k) r_p[i][k] = r[i][k];
      rhos_p = solve(r_p, std::vector<double>(b.begin(), b.end() - 1));
    }
    at::Tensor prediction = d1s[0] * rhos_p[0];
    for (size_t k = 1; k < d1s.size(); ++k) prediction = prediction + d1s[k] * rhos_p[k];
    x_t = x_first - b_h * prediction;
  }
  if (corrector == Corrector::Skip) return {x_t, at::Tensor()};

  const std::vector<double> rhos_c = order == 1 ? std::vector<double>{0.5} : solve(r, b);
  const at::Tensor model_t = context.denoise(x_t, sigma_t);
  at::Tensor correction = (model_t - model_0) * rhos_c.back();
  for (size_t k = 0; k < d1s.size(); ++k) correction = correction + d1s[k] * rhos_c[k];
  return {x_first - b_h * correction, model_t};
}

}  // namespace

// ComfyUI's sample_unipc: multistep UniPC of order min(3, steps - 1) with lower-order warm-up and final steps;
// one denoiser call per step (the corrector's evaluation is reused). ComfyUI stops at sigma 0.001 instead of a
// smaller final sigma (0), so the result keeps 0.001 of noise, and so does this port. The callback reports x after
// each correction.
at::Tensor sampleUniPc(SamplerContext& context, at::Tensor x, const std::vector<double>& sigmas_in) {
  std::vector<double> sigmas = sigmas_in;
  if (sigmas.back() < 0.001) sigmas.back() = 0.001;  // as ComfyUI: lambda = -log(sigma) must stay finite
  if (sigmas.size() >= 2 && sigmas[sigmas.size() - 2] <= sigmas.back())
    fail(ErrorCode::InvalidArgument, "uni_pc: the last nonzero sigma must be above 0.001");
  const int steps = stepCount(sigmas);
  if (steps < 1) return x;
  const int max_order = context.options.unipc_order;
  if (max_order < 1 || max_order > 3)
    fail(ErrorCode::InvalidArgument, "uni_pc: order must be in [1, 3], got " + std::to_string(max_order));
  const int order = std::max(1, std::min(max_order, steps - 1));

  std::vector<double> sigma_history{sigmas[0]};
  std::vector<at::Tensor> model_history{context.denoise(x, sigmas[0])};
  context.report(0, steps, sigmas_in[0], sigmas_in[0], x, model_history.back());
  // Warm-up: lower orders while the history fills.
  for (int step = 1; step < order; ++step) {
    UniPcUpdate update = uniPcStep(context, x, model_history, sigma_history, sigmas[step], step, Corrector::Run);
    x = update.x;
    sigma_history.push_back(sigmas[step]);
    model_history.push_back(update.model);
    context.report(step, steps, sigmas[step], sigmas[step], x, update.model);
  }
  for (int step = order; step <= steps; ++step) {
    const int step_order = std::min(order, steps + 1 - step);  // lower order at the end
    const Corrector corrector = step == steps ? Corrector::Skip : Corrector::Run;  // the last evaluation would be unused
    UniPcUpdate update = uniPcStep(context, x, model_history, sigma_history, sigmas[step], step_order, corrector);
    x = update.x;
    if (step == steps) break;
    sigma_history.erase(sigma_history.begin());
    model_history.erase(model_history.begin());
    sigma_history.push_back(sigmas[step]);
    model_history.push_back(update.model);
    context.report(step, steps, sigmas[step], sigmas[step], x, update.model);
  }
  return x;
}

}  // namespace gesso::diffusion
