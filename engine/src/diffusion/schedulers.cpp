// Noise schedules by name (ComfyUI's scheduler list) and the registry table; see schedulers.h.
#include "gesso/diffusion/schedulers.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace gesso::diffusion {
namespace {

const at::TensorOptions kFloat32 = at::TensorOptions().dtype(at::kFloat);

void requireSteps(const char* name, int n, int minimum = 1) {
  if (n < minimum)
    fail(ErrorCode::InvalidArgument,
         std::string(name) + ": steps must be >= " + std::to_string(minimum) + ", got " + std::to_string(n));
}

void requireRange(const char* name, double sigma_min, double sigma_max) {
  if (!(sigma_min > 0 && sigma_max > sigma_min && std::isfinite(sigma_max)))
    fail(ErrorCode::InvalidArgument, std::string(name) + ": need 0 < sigma_min < sigma_max, got " + std::to_string(sigma_min) +
                                         ", " + std::to_string(sigma_max));
}

at::Tensor appendZero(const at::Tensor& sigmas) { return at::cat({sigmas.to(at::kFloat), at::zeros({1}, kFloat32)}); }

at::Tensor fromValues(const std::vector<double>& values) {
  return at::tensor(values, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
}

const DiscreteSchedule& requireSchedule(const SchedulerContext& context, const char* name) {
  if (!context.schedule)
    fail(ErrorCode::InvalidArgument, std::string(name) + ": the scheduler needs the model's discrete schedule");
  return *context.schedule;
}

// numpy.linspace(start, stop, num) for num >= 2 (endpoint included, last value exactly stop).
std::vector<double> numpyLinspace(double start, double stop, int num) {
  std::vector<double> values(num);
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) values[i] = i * step + start;
  values.back() = stop;
  return values;
}

}  // namespace

at::Tensor karrasSigmas(int n, double sigma_min, double sigma_max, double rho) {
  requireSteps("karras", n);
  requireRange("karras", sigma_min, sigma_max);
  const at::Tensor ramp = at::linspace(0, 1, n, kFloat32);
  const double min_inv_rho = std::pow(sigma_min, 1.0 / rho);
  const double max_inv_rho = std::pow(sigma_max, 1.0 / rho);
  return appendZero((max_inv_rho + ramp * (min_inv_rho - max_inv_rho)).pow(rho));
}

at::Tensor exponentialSigmas(int n, double sigma_min, double sigma_max) {
  requireSteps("exponential", n);
  requireRange("exponential", sigma_min, sigma_max);
  return appendZero(at::linspace(std::log(sigma_max), std::log(sigma_min), n, kFloat32).exp());
}

at::Tensor klOptimalSigmas(int n, double sigma_min, double sigma_max) {
  requireSteps("kl_optimal", n);
  requireRange("kl_optimal", sigma_min, sigma_max);
  if (n == 1) return fromValues({sigma_max, 0.0});  // ComfyUI divides by n - 1; one step starts at sigma_max
  const at::Tensor fraction = at::arange(n, kFloat32).div_(n - 1);
  return appendZero((fraction * std::atan(sigma_min) + (1 - fraction) * std::atan(sigma_max)).tan_());
}

at::Tensor normalSigmas(const DiscreteSchedule& schedule, int n) {
  requireSteps("normal", n);
  const double t_max = static_cast<double>(schedule.size() - 1);
  // ComfyUI adds a step and drops the final 0 when the table's smallest sigma is 0; SD's never is (0.0292).
  if (schedule.sigmaMin() < 1e-5) {
    return schedule.timestepToSigma(at::linspace(t_max, 0, n + 1, kFloat32));
  }
  return appendZero(schedule.timestepToSigma(at::linspace(t_max, 0, n, kFloat32)));
}

at::Tensor sgmUniformSigmas(const DiscreteSchedule& schedule, int n) {
  requireSteps("sgm_uniform", n);
  const double t_max = static_cast<double>(schedule.size() - 1);
  const at::Tensor timesteps = at::linspace(t_max, 0, n + 1, kFloat32).slice(0, 0, n);
  return appendZero(schedule.timestepToSigma(timesteps));
}

at::Tensor simpleSigmas(const DiscreteSchedule& schedule, int n) {
  requireSteps("simple", n);
  const int64_t total = schedule.size();
  const double stride = static_cast<double>(total) / n;
  std::vector<int64_t> indices(n);
  for (int i = 0; i < n; ++i) indices[i] = total - 1 - static_cast<int64_t>(i * stride);
  return appendZero(schedule.sigmas().index_select(0, at::tensor(indices, at::TensorOptions().dtype(at::kLong))));
}

at::Tensor ddimUniformSigmas(const DiscreteSchedule& schedule, int n) {
  requireSteps("ddim_uniform", n);
  const int64_t total = schedule.size();
  std::vector<int64_t> indices;
  bool append_zero = true;
  int steps = n;
  if (std::fabs(schedule.sigmaAt(1)) < 1e-5) {  // ComfyUI's rule for tables that start at 0
    ++steps;
    append_zero = false;
  }
  const int64_t stride = std::max<int64_t>(total / steps, 1);
  for (int64_t index = 1; index < total; index += stride) indices.push_back(index);
  std::reverse(indices.begin(), indices.end());
  const at::Tensor sigmas = schedule.sigmas().index_select(0, at::tensor(indices, at::TensorOptions().dtype(at::kLong)));
  return append_zero ? appendZero(sigmas) : sigmas.clone();
}

at::Tensor betaSigmas(const DiscreteSchedule& schedule, int n, double alpha, double beta) {
  requireSteps("beta", n);
  if (!(alpha > 0 && beta > 0)) fail(ErrorCode::InvalidArgument, "beta: alpha and beta must be positive");
  const double total_timesteps = static_cast<double>(schedule.size() - 1);
  std::vector<int64_t> indices;
  double last_t = -1;
  for (int i = 0; i < n; ++i) {
    const double p = 1.0 - i * (1.0 / n);
    const double t = std::nearbyint(betaQuantile(p, alpha, beta) * total_timesteps);  // numpy.rint: half to even
    if (t != last_t) indices.push_back(static_cast<int64_t>(t));
    last_t = t;
  }
  return appendZero(schedule.sigmas().index_select(0, at::tensor(indices, at::TensorOptions().dtype(at::kLong))));
}

const std::vector<double>& alignYourStepsPublished(AysModel model) {
  // NVIDIA's published 10-step schedules (research.nvidia.com/labs/toronto-ai/AlignYourSteps/howto.html).
  static const std::vector<double> sd1{14.6146412293, 6.4745760956, 3.8636745985, 2.6946151520, 1.8841921177, 1.3943805092,
                                       0.9642583904,  0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582};
  static const std::vector<double> sdxl{14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141,
                                        0.5550693289,  0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582};
  return model == AysModel::SDXL ? sdxl : sd1;
}

at::Tensor alignYourStepsSigmas(AysModel model, int n) {
  requireSteps("align_your_steps", n);
  const std::vector<double>& published = alignYourStepsPublished(model);
  std::vector<double> sigmas = published;
  if (static_cast<size_t>(n + 1) != published.size()) {
    // Log-linear interpolation on the ascending list, positions spread uniformly over [0, 1].
    const int count = static_cast<int>(published.size());
    const std::vector<double> xs = numpyLinspace(0, 1, count);
    std::vector<double> ys(count);
    for (int i = 0; i < count; ++i) ys[i] = std::log(published[count - 1 - i]);
    const std::vector<double> new_xs = numpyLinspace(0, 1, n + 1);
    sigmas.assign(n + 1, 0.0);
    for (int i = 0; i <= n; ++i) {
      const double x = new_xs[i];
      int j = std::min<int>(static_cast<int>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin()) - 1, count - 2);
      j = std::max(j, 0);
      const double slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]);
      const double y = x >= xs.back() ? ys.back() : slope * (x - xs[j]) + ys[j];
      sigmas[n - i] = std::exp(y);
    }
  }
  sigmas.back() = 0.0;
  return fromValues(sigmas);
}

const std::vector<SchedulerEntry>& schedulerTable() {
  static const std::vector<SchedulerEntry> table{
      {"normal", [](const SchedulerContext& c, int n) { return normalSigmas(requireSchedule(c, "normal"), n); }},
      {"karras",
       [](const SchedulerContext& c, int n) {
         const DiscreteSchedule& s = requireSchedule(c, "karras");
         return karrasSigmas(n, s.sigmaMin(), s.sigmaMax());
       }},
      {"exponential",
       [](const SchedulerContext& c, int n) {
         const DiscreteSchedule& s = requireSchedule(c, "exponential");
         return exponentialSigmas(n, s.sigmaMin(), s.sigmaMax());
       }},
      {"sgm_uniform", [](const SchedulerContext& c, int n) { return sgmUniformSigmas(requireSchedule(c, "sgm_uniform"), n); }},
      {"simple", [](const SchedulerContext& c, int n) { return simpleSigmas(requireSchedule(c, "simple"), n); }},
      {"ddim_uniform", [](const SchedulerContext& c, int n) { return ddimUniformSigmas(requireSchedule(c, "ddim_uniform"), n); }},
      {"beta", [](const SchedulerContext& c, int n) { return betaSigmas(requireSchedule(c, "beta"), n); }},
      {"kl_optimal",
       [](const SchedulerContext& c, int n) {
         const DiscreteSchedule& s = requireSchedule(c, "kl_optimal");
         return klOptimalSigmas(n, s.sigmaMin(), s.sigmaMax());
       }},
      {"align_your_steps", [](const SchedulerContext& c, int n) { return alignYourStepsSigmas(c.ays_model, n); }},
  };
  return table;
}

std::vector<std::string> schedulerNames() {
  std::vector<std::string> names;
  for (const SchedulerEntry& entry : schedulerTable()) names.emplace_back(entry.name);
  return names;
}

at::Tensor makeSigmas(const std::string& name, const SchedulerContext& context, int n) {
  for (const SchedulerEntry& entry : schedulerTable()) {
    if (name == entry.name) return entry.function(context, n);
  }
  std::string known;
  for (const std::string& candidate : schedulerNames()) known += (known.empty() ? "" : ", ") + candidate;
  fail(ErrorCode::InvalidArgument, "unknown scheduler '" + name + "' (known: " + known + ")");
}

}  // namespace gesso::diffusion
