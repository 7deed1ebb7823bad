// Forks: the splice of a new schedule at a latent's noise level and the continued run (see fork.h for the choice).
#include "gesso/pipeline/fork.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <string>

namespace gesso::pipeline {

ForkEntry forkEntry(const at::Tensor& schedule, double sigma) {
  if (!(sigma > 0) || !std::isfinite(sigma)) {
    fail(ErrorCode::InvalidArgument, "fork: the latent's sigma must be positive and finite (a finished latent, sigma " +
                                         std::to_string(sigma) + ", cannot be continued)");
  }
  if (!schedule.defined() || schedule.dim() != 1 || schedule.size(0) < 2) {
    fail(ErrorCode::InvalidArgument, "fork: the new schedule needs at least two sigmas");
  }
  const at::Tensor values = schedule.to(at::kDouble).cpu().contiguous();
  const double* s = values.data_ptr<double>();
  const int64_t n = values.size(0);
  // The first schedule sigma below the latent's level (equal within 1e-5 counts as not below: an empty step).
  int64_t first = 0;
  while (first < n && s[first] >= sigma * (1.0 - 1e-5)) ++first;
  if (first == n) first = n - 1;  // only reachable for a schedule not ending in 0: run its last sigma
  std::vector<double> spliced{sigma};
  for (int64_t i = first; i < n; ++i) spliced.push_back(s[i]);
  ForkEntry entry;
  entry.sigmas = at::tensor(spliced, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
  entry.start_step = static_cast<int>(std::max<int64_t>(0, first - 1));
  return entry;
}

ForkResult fork(LoadedModel& model, const StepLatent& from, const GenerateRequest& request,
                const GenerateCallbacks& callbacks) {
  const auto started = std::chrono::steady_clock::now();
  if (!from.x.defined()) fail(ErrorCode::InvalidArgument, "fork: the step latent is empty");
  if (request.seed < 0) fail(ErrorCode::InvalidArgument, "fork: the request's seed must be set (normally the parent's)");
  if (request.batch_size != 1 || request.batch_count != 1) {
    fail(ErrorCode::InvalidArgument, "fork: batch_size and batch_count must be 1");
  }
  validateRequest(request);
  ForkResult result;
  result.request = request;
  result.entry = forkEntry(requestSigmas(model, request), from.sigma);

  GenerateCallbacks inner = callbacks;
  inner.on_step = [&](const StepEvent& event) {
    if (event.pass == 0) {
      result.step_latents.push_back(StepLatent{result.entry.start_step + event.step, event.sigma,
                                               event.x.detach().to(at::kFloat).cpu().clone(),
                                               event.denoised.detach().to(at::kFloat).cpu().clone()});
    }
    if (callbacks.on_step) callbacks.on_step(event);
  };
  const GenerateResult generated = generateFrom(model, request, LatentStart{from.x, result.entry.sigmas}, inner);
  result.request = generated.request;
  result.image = generated.images.at(0).image;
  result.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace gesso::pipeline
