// The DDPM discretization of Stable Diffusion and sigma <-> timestep conversion; see discretization.h.
#include "gesso/diffusion/discretization.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>

namespace gesso::diffusion {

std::vector<double> scaledLinearBetas(int timesteps, double linear_start, double linear_end) {
  if (timesteps < 2)
    fail(ErrorCode::InvalidArgument, "scaledLinearBetas: timesteps must be >= 2, got " + std::to_string(timesteps));
  if (!(linear_start > 0 && linear_end > linear_start && linear_end < 1))
    fail(ErrorCode::InvalidArgument, "scaledLinearBetas: need 0 < linear_start < linear_end < 1");
  // Same arithmetic as torch.linspace(float64) followed by **2.
  const double start = std::sqrt(linear_start);
  const double end = std::sqrt(linear_end);
  const at::Tensor root = at::linspace(start, end, timesteps, at::TensorOptions().dtype(at::kDouble));
  const at::Tensor betas = (root * root).contiguous();
  const double* data = betas.data_ptr<double>();
  return std::vector<double>(data, data + timesteps);
}

std::vector<double> alphasCumprod(const std::vector<double>& betas) {
  std::vector<double> result(betas.size());
  double product = 1.0;
  for (size_t i = 0; i < betas.size(); ++i) {
    product *= 1.0 - betas[i];
    result[i] = product;
  }
  return result;
}

std::vector<double> rescaleZeroTerminalSnr(const std::vector<double>& alphas_cumprod, double terminal_alphas_cumprod) {
  if (alphas_cumprod.size() < 2) fail(ErrorCode::InvalidArgument, "rescaleZeroTerminalSnr: need at least 2 values");
  std::vector<double> root(alphas_cumprod.size());
  for (size_t i = 0; i < root.size(); ++i) root[i] = std::sqrt(alphas_cumprod[i]);
  const double first = root.front();
  const double last = root.back();
  if (!(first > last)) fail(ErrorCode::InvalidArgument, "rescaleZeroTerminalSnr: alphas_cumprod must decrease");
  // Keep the first value, move the last to zero, scale linearly in between.
  std::vector<double> result(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const double shifted = (root[i] - last) * first / (first - last);
    result[i] = shifted * shifted;
  }
  result.back() = terminal_alphas_cumprod;
  return result;
}

DiscreteSchedule::DiscreteSchedule(const std::vector<double>& alphas_cumprod) {
  if (alphas_cumprod.size() < 2) fail(ErrorCode::InvalidArgument, "DiscreteSchedule: need at least 2 alphas_cumprod values");
  for (double value : alphas_cumprod) {
    if (!(value > 0 && value <= 1)) fail(ErrorCode::InvalidArgument, "DiscreteSchedule: alphas_cumprod values must be in (0, 1]");
  }
  const at::Tensor ac64 = at::tensor(alphas_cumprod, at::TensorOptions().dtype(at::kDouble));
  alphas_cumprod_ = ac64.to(at::kFloat);
  sigmas_ = ((1 - alphas_cumprod_) / alphas_cumprod_).pow(0.5);  // float32, as the references
  log_sigmas_ = sigmas_.log();
}

DiscreteSchedule DiscreteSchedule::stableDiffusion() { return DiscreteSchedule(diffusion::alphasCumprod(scaledLinearBetas())); }

DiscreteSchedule DiscreteSchedule::fromSigmas(const at::Tensor& ascending_sigmas) {
  if (!ascending_sigmas.defined() || ascending_sigmas.dim() != 1 || ascending_sigmas.size(0) < 2)
    fail(ErrorCode::InvalidArgument, "DiscreteSchedule: sigmas must be a 1-D tensor of at least 2 values");
  const at::Tensor sigmas = ascending_sigmas.to(at::kFloat).contiguous();
  if (!(sigmas > 0).all().item<bool>() || !(sigmas.slice(0, 1) > sigmas.slice(0, 0, -1)).all().item<bool>())
    fail(ErrorCode::InvalidArgument, "DiscreteSchedule: sigmas must be positive and strictly ascending");
  DiscreteSchedule schedule;
  schedule.sigmas_ = sigmas.clone();
  schedule.log_sigmas_ = schedule.sigmas_.log();
  schedule.alphas_cumprod_ = 1 / (1 + schedule.sigmas_ * schedule.sigmas_);
  return schedule;
}

DiscreteSchedule DiscreteSchedule::sgmLegacy() { return fromSigmas(legacyDdpmDiscretization(1000, AppendZero::No).flip({0})); }

double DiscreteSchedule::sigmaMin() const { return sigmas_[0].item<double>(); }
double DiscreteSchedule::sigmaMax() const { return sigmas_[size() - 1].item<double>(); }
double DiscreteSchedule::sigmaAt(int64_t index) const {
  if (index < 0 || index >= size())
    fail(ErrorCode::InvalidArgument,
         "DiscreteSchedule: index " + std::to_string(index) + " outside [0, " + std::to_string(size()) + ")");
  return sigmas_[index].item<double>();
}

at::Tensor DiscreteSchedule::sigmaToTimestep(const at::Tensor& sigma) const {
  const at::Tensor log_sigma = sigma.to(at::kFloat).log();
  const at::Tensor dists = log_sigma.reshape({1, -1}) - log_sigmas_.reshape({-1, 1});  // [T, N]
  // The last index whose log sigma is <= the query (0 when the query is below the table).
  const at::Tensor low_idx = dists.ge(0).cumsum(0).argmax(0).clamp_max(size() - 2);  // [N]
  const at::Tensor high_idx = low_idx + 1;
  const at::Tensor low = log_sigmas_.index_select(0, low_idx);
  const at::Tensor high = log_sigmas_.index_select(0, high_idx);
  const at::Tensor w = ((low - log_sigma.reshape({-1})) / (low - high)).clamp(0, 1);
  const at::Tensor t = (1 - w) * low_idx + w * high_idx;
  return t.reshape(sigma.sizes());
}

at::Tensor DiscreteSchedule::sigmaToNearestIndex(const at::Tensor& sigma, Distance distance) const {
  const at::Tensor query = sigma.to(at::kFloat);
  const at::Tensor dists = distance == Distance::LogSigma ? query.log().reshape({1, -1}) - log_sigmas_.reshape({-1, 1})  // [T, N]
                                                          : query.reshape({1, -1}) - sigmas_.reshape({-1, 1});           // [T, N]
  return dists.abs().argmin(0).reshape(sigma.sizes());
}

at::Tensor DiscreteSchedule::timestepToSigma(const at::Tensor& timestep) const {
  const at::Tensor t = timestep.to(at::kFloat).clamp(0, static_cast<double>(size() - 1));
  const at::Tensor flat = t.reshape({-1});
  const at::Tensor low_idx = flat.floor().to(at::kLong);
  const at::Tensor high_idx = flat.ceil().to(at::kLong);
  const at::Tensor w = flat.frac();
  const at::Tensor log_sigma = (1 - w) * log_sigmas_.index_select(0, low_idx) + w * log_sigmas_.index_select(0, high_idx);
  return log_sigma.exp().reshape(timestep.sizes());
}

at::Tensor legacyDdpmDiscretization(int n, const std::vector<double>& alphas_cumprod, AppendZero append) {
  const int total = static_cast<int>(alphas_cumprod.size());
  if (n < 1 || n > total)
    fail(ErrorCode::InvalidArgument,
         "legacyDdpmDiscretization: n must be in [1, " + std::to_string(total) + "], got " + std::to_string(n));
  // Timesteps int(linspace(T-1, 0, n, endpoint=False)) reversed (numpy: start + i * step), or all of them for n == T.
  std::vector<double> ratios(n);
  for (int i = 0; i < n; ++i) {
    int index = i;
    if (n < total) {
      const double step = -static_cast<double>(total - 1) / n;
      index = static_cast<int>(static_cast<double>(n - 1 - i) * step + (total - 1));
    }
    const double ac = alphas_cumprod[index];
    ratios[i] = (1 - ac) / ac;
  }
  // float64 ratio -> float32 -> sqrt in float32, then descending.
  at::Tensor sigmas = at::tensor(ratios, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat).pow(0.5).flip({0});
  if (append == AppendZero::Yes) sigmas = at::cat({sigmas, at::zeros({1}, sigmas.options())});
  return sigmas;
}

at::Tensor legacyDdpmDiscretization(int n, AppendZero append) {
  return legacyDdpmDiscretization(n, alphasCumprod(scaledLinearBetas()), append);
}

}  // namespace gesso::diffusion
