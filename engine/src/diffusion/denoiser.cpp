// Denoiser: preconditioning around a network call (k-diffusion CompVis(V)Denoiser, sgm Denoiser/DiscreteDenoiser),
// the UNet adapter (sgm OpenAIWrapper) and the training input/target from the same scalings.
#include "gesso/diffusion/denoiser.h"

#include "gesso/diffusion/discretization.h"
#include "diffusion/tensor_shapes.h"
#include "gesso/error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace gesso::diffusion {
namespace {

at::Tensor castIfDefined(const at::Tensor& t, const at::TensorOptions& options) {
  return t.defined() ? t.to(options) : t;
}

}  // namespace

NetworkFunction unetNetwork(models::UNet unet) {
  if (!unet) fail(ErrorCode::InvalidArgument, "unetNetwork: the UNet is empty");
  return [unet](const at::Tensor& x_in, const at::Tensor& timestep, const Conditioning& conditioning) mutable {
    const at::Tensor& weight = unet->time_embed_in->weight;
    const at::TensorOptions model_options = at::TensorOptions().dtype(weight.scalar_type()).device(weight.device());
    at::Tensor x = x_in.to(model_options);
    if (conditioning.concat.defined()) {
      x = at::cat({x, conditioning.concat.to(model_options)}, 1);  // [B, C + C', H, W]
    }
    const at::Tensor out =
        unet->forward(x, timestep.to(weight.device()), castIfDefined(conditioning.crossattn, model_options),
                      castIfDefined(conditioning.vector, model_options));
    return out.to(x_in.options());
  };
}

Denoiser::Denoiser(NetworkFunction network, DenoiserOptions options, at::Tensor training_sigmas)
    : network_(std::move(network)), options_(options) {
  if (!network_) fail(ErrorCode::InvalidArgument, "Denoiser: no network function");
  if (!(options_.sigma_data > 0)) fail(ErrorCode::InvalidArgument, "Denoiser: sigma_data must be positive");
  sigmas_ = training_sigmas.defined() ? training_sigmas.detach().to(at::kCPU).to(at::kFloat).contiguous()
                                      : DiscreteSchedule::sgmLegacy().sigmas();  // float64 ratio rounded to float32, then sqrt: bit-exact with sgm
  if (sigmas_.dim() != 1 || sigmas_.size(0) < 2) {
    fail(ErrorCode::ShapeMismatch, "Denoiser: training_sigmas must be [N] with N >= 2, got " + shapeText(sigmas_));
  }
  if (!(sigmas_ > 0).all().item<bool>() || !(sigmas_.slice(0, 1) >= sigmas_.slice(0, 0, -1)).all().item<bool>()) {
    fail(ErrorCode::InvalidArgument, "Denoiser: training_sigmas must be positive and ascending");
  }
  log_sigmas_ = sigmas_.to(at::kDouble).log();
}

double Denoiser::sigmaMin() const { return sigmas_[0].item<double>(); }
double Denoiser::sigmaMax() const { return sigmas_[-1].item<double>(); }

at::Tensor Denoiser::batchSigma(const at::Tensor& sigma, const at::Tensor& x) const {
  if (!sigma.defined()) fail(ErrorCode::InvalidArgument, "Denoiser: sigma is undefined");
  const int64_t batch = x.size(0);
  // Coefficients in at least float32 (a half-precision σ would round c_in visibly), on the latent's device.
  const bool wide = sigma.scalar_type() == at::kFloat || sigma.scalar_type() == at::kDouble;
  at::Tensor result = sigma.to(x.device(), wide ? sigma.scalar_type() : at::kFloat);
  if (result.dim() == 0 || (result.dim() == 1 && result.size(0) == 1)) {
    result = result.reshape({1}).expand({batch});  // [B]
  } else if (result.dim() != 1 || result.size(0) != batch) {
    fail(ErrorCode::ShapeMismatch,
         "Denoiser: sigma must be a scalar or [" + std::to_string(batch) + "], got " + shapeText(result));
  }
  if (!(result >= 0).all().item<bool>() || !at::isfinite(result).all().item<bool>()) {
    fail(ErrorCode::InvalidArgument, "Denoiser: sigma must be finite and non-negative");
  }
  return result;
}

at::Tensor Denoiser::sigmaToTimestep(const at::Tensor& sigma) const {
  const at::Tensor log_sigma = sigma.reshape({-1}).to(at::kCPU).to(at::kDouble).log();  // [B]
  const at::Tensor distances = log_sigma.unsqueeze(0) - log_sigmas_.unsqueeze(1);       // [N, B]
  const int64_t last = sigmas_.size(0) - 1;
  // The last training sigma not above σ (the first one when σ is below them all), so that low + 1 exists.
  const at::Tensor low = (distances.ge(0).sum(0) - 1).clamp(0, last - 1);  // [B] int64
  const at::Tensor high = low + 1;
  const at::Tensor low_log = log_sigmas_.index_select(0, low), high_log = log_sigmas_.index_select(0, high);
  const at::Tensor weight = ((low_log - log_sigma) / (low_log - high_log)).clamp(0, 1);
  const at::Tensor t = (1 - weight) * low.to(at::kDouble) + weight * high.to(at::kDouble);
  return t.to(sigma.options().dtype(at::isFloatingType(sigma.scalar_type()) ? sigma.scalar_type() : at::kFloat))
      .reshape(sigma.sizes());  // sigma's shape
}

at::Tensor Denoiser::nearestIndexLogSigma(const at::Tensor& sigma) const {
  const at::Tensor log_sigma = sigma.reshape({-1}).to(at::kCPU).to(at::kDouble).log();     // [B]
  const at::Tensor distances = (log_sigma.unsqueeze(0) - log_sigmas_.unsqueeze(1)).abs();  // [N, B]
  return distances.argmin(0).reshape(sigma.sizes()).to(sigma.device());                    // sigma's shape
}

at::Tensor Denoiser::nearestIndexSigma(const at::Tensor& sigma) const {
  const at::Tensor values = sigma.reshape({-1}).to(at::kCPU).to(at::kDouble);  // [B]
  const at::Tensor sigmas = sigmas_.to(at::kDouble);
  const at::Tensor distances = (values.unsqueeze(0) - sigmas.unsqueeze(1)).abs();  // [N, B]
  return distances.argmin(0).reshape(sigma.sizes()).to(sigma.device());            // sigma's shape
}

at::Tensor Denoiser::effectiveSigma(const at::Tensor& sigma) const {
  if (options_.noise_condition != NoiseCondition::QuantizedSigma) return sigma;
  const at::Tensor index = nearestIndexSigma(sigma).to(at::kCPU);
  return sigmas_.index_select(0, index.reshape({-1})).reshape(sigma.sizes()).to(sigma.options());  // sigma's shape
}

at::Tensor Denoiser::noiseCondition(const at::Tensor& sigma) const {
  switch (options_.noise_condition) {
    case NoiseCondition::InterpolatedTimestep:
      return sigmaToTimestep(sigma);
    case NoiseCondition::NearestTimestep:
      return nearestIndexLogSigma(sigma).to(sigma.scalar_type());
    case NoiseCondition::QuantizedSigma:
      return nearestIndexSigma(sigma);
    case NoiseCondition::LogSigma:
      return edmNoiseCondition(sigma);
  }
  fail(ErrorCode::Internal, "Denoiser: unknown noise condition");
}

at::Tensor Denoiser::operator()(const at::Tensor& x, const at::Tensor& sigma, const Conditioning& conditioning) const {
  if (!x.defined() || x.dim() < 2) {
    fail(ErrorCode::ShapeMismatch, "Denoiser: x must be [B, C, ...], got " + (x.defined() ? shapeText(x) : "nothing"));
  }
  const at::Tensor s = effectiveSigma(batchSigma(sigma, x));  // [B]
  const Scalings scalings = computeScalings(options_.parameterization, s, options_.sigma_data);
  const at::Tensor c_in = appendDims(scalings.c_in, x.dim());  // [B, 1, 1, 1]
  const at::Tensor output = network_(x * c_in, noiseCondition(s), conditioning);
  if (output.sizes() != x.sizes()) {
    fail(ErrorCode::ShapeMismatch,
         "Denoiser: the network returned " + shapeText(output) + " for an input of " + shapeText(x));
  }
  return output * appendDims(scalings.c_out, x.dim()) + x * appendDims(scalings.c_skip, x.dim());
}

TrainingExample Denoiser::trainingExample(const at::Tensor& x0, const at::Tensor& noise,
                                          const at::Tensor& sigma) const {
  if (!x0.defined() || !noise.defined() || x0.sizes() != noise.sizes() || x0.dim() < 2) {
    fail(ErrorCode::ShapeMismatch, "Denoiser: x0 and noise must have the same shape [B, C, ...], got " +
                                       (x0.defined() ? shapeText(x0) : "nothing") + " and " +
                                       (noise.defined() ? shapeText(noise) : "nothing"));
  }
  // The scalings, the noise level of the input and the timestep all use the same (possibly quantized) σ.
  const at::Tensor s = effectiveSigma(batchSigma(sigma, x0));  // [B]
  const Scalings scalings = computeScalings(options_.parameterization, s, options_.sigma_data);
  TrainingExample example;
  example.noised = x0 + noise * appendDims(s, x0.dim());
  example.model_input = example.noised * appendDims(scalings.c_in, x0.dim());
  example.timestep = noiseCondition(s);
  if (options_.parameterization == Parameterization::Epsilon) {
    example.target = noise;  // (x0 − noised)/(−σ), exact also at σ = 0
  } else {
    example.target =
        (x0 - appendDims(scalings.c_skip, x0.dim()) * example.noised) / appendDims(scalings.c_out, x0.dim());
  }
  return example;
}

at::Tensor Denoiser::loss(const at::Tensor& x0, const at::Tensor& noise, const at::Tensor& sigma,
                          const Conditioning& conditioning) const {
  const TrainingExample example = trainingExample(x0, noise, sigma);
  const at::Tensor output = network_(example.model_input, example.timestep, conditioning);
  return (output - example.target).pow(2).flatten(1).mean(1);  // [B]
}

}  // namespace gesso::diffusion
