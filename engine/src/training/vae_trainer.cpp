// AutoencoderKL training from a random init (reconstruction + KL, AdamW, warmup then cosine decay) for the bundled
// model's first stage. See gesso/training/vae_trainer.h.
#include "gesso/training/vae_trainer.h"

#include "gesso/datasets/shapes.h"
#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "gesso/io/checkpoint.h"
#include "gesso/io/safetensors.h"
#include "gesso/io/state_dict.h"
#include "gesso/models/autoencoder_kl.h"
#include "gesso/models/model_config_files.h"
#include "gesso/nn/layers.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>

namespace gesso::training {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double learningRate(const VaeTrainOptions& options, int64_t step, double elapsed_s) {
  const int64_t warmup = std::min<int64_t>(100, options.steps / 10);
  if (step < warmup) return options.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, options.steps - warmup));
  // With a time limit the cosine follows whichever runs out first, steps or time, so a run cut short by the limit
  // still ends at the low learning rate.
  if (options.max_seconds > 0) progress = std::min(1.0, std::max(progress, elapsed_s / options.max_seconds));
  return options.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progress)));  // cosine down to 10%
}

}  // namespace

ImageFolder loadImageFolder(const std::string& folder, int64_t max_images) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) fail(ErrorCode::FileNotFound, "image folder not found: " + folder);
  std::vector<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    std::string extension = entry.path().extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(), ::tolower);
    if (entry.is_regular_file() && extension == ".png") paths.push_back(entry.path().string());
  }
  if (paths.empty()) fail(ErrorCode::InvalidArgument, folder + " has no .png images");
  std::sort(paths.begin(), paths.end());
  if (max_images > 0 && static_cast<int64_t>(paths.size()) > max_images) paths.resize(static_cast<size_t>(max_images));
  std::vector<at::Tensor> images;
  images.reserve(paths.size());
  int64_t width = -1, height = -1;
  for (const auto& path : paths) {
    const image::Image image = image::readImage(path);  // RGB, alpha composited
    if (width < 0) width = image.width, height = image.height;
    if (image.width != width || image.height != height) {
      fail(ErrorCode::InvalidArgument, path + " is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                                           ", the other images are " + std::to_string(width) + "x" + std::to_string(height));
    }
    at::Tensor hwc = at::from_blob(const_cast<uint8_t*>(image.data.data()), {image.height, image.width, image.channels},
                                   at::kByte);  // [H, W, C]
    images.push_back(hwc.narrow(2, 0, 3).permute({2, 0, 1}).clone());  // [3, H, W]
  }
  return ImageFolder{at::stack(images), paths};  // [N, 3, H, W]
}

at::Device parseTrainingDevice(const std::string& name) {
  if (name != "cpu" && name.rfind("cuda", 0) != 0) fail(ErrorCode::InvalidArgument, "--device must be cpu or cuda[:N], got \"" + name + "\"");
  at::Device device(at::kCPU);
  try {
    device = at::Device(name);
  } catch (const std::exception&) {
    fail(ErrorCode::InvalidArgument, "--device must be cpu or cuda[:N], got \"" + name + "\"");
  }
  if (device.is_cuda() && !at::hasCUDA()) {
    fail(ErrorCode::InvalidArgument, "--device " + name + ": this LibTorch has no CUDA or no GPU is visible");
  }
  return device;
}

namespace {

// The weights to start from, read as `--vae` reads a VAE (LDM names with or without first_stage_model., or diffusers
// names) and copied with the checkpoint loader's key accounting.
void loadInitialWeights(models::AutoencoderKLImpl& vae, const std::string& path) {
  io::Checkpoint source;
  source.replaceVae(path);
  io::loadComponent(vae, source, "first_stage_model.");
}

}  // namespace

VaeTrainResult trainVae(const VaeTrainOptions& options, const std::function<void(const VaeStepMetrics&)>& on_step,
                        const CancelToken* cancel) {
  if (options.steps <= 0 || options.batch_size <= 0) fail(ErrorCode::InvalidArgument, "--steps and --batch-size must be positive");
  if (options.output.empty()) fail(ErrorCode::InvalidArgument, "no --output file given for the VAE");
  const ConfigOverrides overrides = loadYamlConfig(options.config);
  if (!overrides.vae) fail(ErrorCode::ConfigError, options.config + ": has no first_stage_config (the VAE's parameters)");
  const VaeConfig config = *overrides.vae;

  const at::Device device = parseTrainingDevice(options.device);
  at::Tensor images;  // uint8 [N, 3, H, W], on the device
  if (options.shapes_count > 0) {
    datasets::ShapesOptions shapes;
    shapes.count = options.shapes_count;
    shapes.seed = options.shapes_seed;
    images = datasets::renderShapesDataset(shapes).images;
  } else {
    if (options.data.empty()) fail(ErrorCode::InvalidArgument, "give --data DIR or --shapes-count N");
    images = loadImageFolder(options.data).images;
  }
  images = images.to(device);
  const int64_t count = images.size(0);
  const int64_t factor = int64_t{1} << (config.ch_mult.size() - 1);
  if (images.size(2) % factor != 0 || images.size(3) % factor != 0) {
    fail(ErrorCode::InvalidArgument, "image size " + std::to_string(images.size(3)) + "x" + std::to_string(images.size(2)) +
                                         " is not a multiple of the VAE's downscale factor " + std::to_string(factor));
  }

  if (options.decoder_only && options.init.empty()) fail(ErrorCode::InvalidArgument, "--decoder-only needs --init (the VAE whose decoder to train)");
  models::AutoencoderKL vae(config, at::TensorOptions().dtype(at::kFloat));
  if (options.init.empty()) nn::fillRandomWeights(*vae, options.seed);  // on the CPU (its generator), then moved
  else loadInitialWeights(*vae, options.init);
  vae->to(device);
  vae->train();
  VaeTrainResult result;
  result.images = count;
  for (const auto& parameter : vae->parameters()) result.parameters += parameter.numel();

  std::vector<at::Tensor> trained;
  for (const auto& item : vae->named_parameters()) {
    const bool decoder = item.key().rfind("decoder.", 0) == 0 || item.key().rfind("post_quant_conv.", 0) == 0;
    if (options.decoder_only && !decoder) item.value().requires_grad_(false);
    else trained.push_back(item.value());
  }
  torch::optim::AdamW optimizer(trained,
                                torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay));
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed + 1);
  const auto start = Clock::now();
  auto window_start = start;
  // Window sums stay on the device: one synchronisation per log line, not per step.
  at::Tensor window_sums = at::zeros({3}, at::TensorOptions().dtype(at::kDouble).device(device));  // loss, L1, KL
  int64_t window_steps = 0;
  int64_t step = 0;
  for (; step < options.steps; ++step) {
    if (cancel && cancel->isCancelled()) break;
    if (options.max_seconds > 0 && std::chrono::duration<double>(Clock::now() - start).count() > options.max_seconds) break;
    const double lr = learningRate(options, step, std::chrono::duration<double>(Clock::now() - start).count());
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);

    // Indices and noise from the CPU generator (deterministic per seed on any device), then moved.
    const at::Tensor indices = at::randint(count, {options.batch_size}, generator, at::kLong).to(device);
    const at::Tensor x = images.index_select(0, indices).to(at::kFloat).div(127.5).sub(1.0);  // [B, 3, H, W]
    const auto posterior = models::DiagonalGaussian::fromMoments(vae->encodeMoments(x));
    const at::Tensor noise = options.sample_posterior
                                 ? at::randn(posterior.mean.sizes(), generator, at::kFloat).to(device)
                                 : at::zeros_like(posterior.mean);
    const at::Tensor reconstruction = vae->decode(options.sample_posterior ? posterior.sample(noise) : posterior.mean);  // [B, 3, H, W]
    const at::Tensor l1 = (x - reconstruction).abs().mean();
    // KL(q || N(0, I)) per latent element; scaled by latent/pixel elements so kl_weight means what it does in LDM
    // (summed losses per image).
    const at::Tensor kl = 0.5 * (posterior.mean.pow(2) + posterior.logvar.exp() - 1.0 - posterior.logvar).mean();
    const double latent_per_pixel = static_cast<double>(posterior.mean[0].numel()) / static_cast<double>(x[0].numel());
    const at::Tensor loss = l1 + options.kl_weight * latent_per_pixel * kl;
    optimizer.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(trained, 1.0);
    optimizer.step();

    {
      at::NoGradGuard no_grad;
      window_sums.add_(at::stack({loss.detach(), l1.detach(), kl.detach()}).to(at::kDouble));
    }
    ++window_steps;
    if ((step + 1) % options.log_every == 0 || step + 1 == options.steps) {
      const at::Tensor sums = window_sums.cpu();
      const double loss_value = sums[0].item<double>() / window_steps;
      if (!std::isfinite(loss_value)) fail(ErrorCode::Internal, "VAE training diverged by step " + std::to_string(step + 1) + " (loss " + std::to_string(loss_value) + "); lower --lr");
      const auto now = Clock::now();
      VaeStepMetrics metrics;
      metrics.step = step + 1;
      metrics.total_steps = options.steps;
      metrics.loss = loss_value;
      metrics.reconstruction_l1 = sums[1].item<double>() / window_steps;
      metrics.kl = sums[2].item<double>() / window_steps;
      metrics.lr = lr;
      metrics.seconds = std::chrono::duration<double>(now - start).count();
      metrics.images_per_second = static_cast<double>(window_steps * options.batch_size) /
                                  std::max(std::chrono::duration<double>(now - window_start).count(), 1e-9);
      result.final_reconstruction_l1 = metrics.reconstruction_l1;
      if (on_step) on_step(metrics);
      window_sums.zero_();
      window_steps = 0;
      window_start = now;
    }
  }
  result.steps = step;
  if (window_steps > 0) result.final_reconstruction_l1 = window_sums[1].item<double>() / window_steps;  // a stopped run

  vae->eval();
  {
    at::NoGradGuard no_grad;
    const int64_t sample = std::min<int64_t>(count, 512);
    std::vector<at::Tensor> means;
    for (int64_t begin = 0; begin < sample; begin += 64) {
      const at::Tensor x = images.slice(0, begin, std::min(sample, begin + 64)).to(at::kFloat).div(127.5).sub(1.0);
      means.push_back(models::DiagonalGaussian::fromMoments(vae->encodeMoments(x)).mean);
    }
    result.latent_std = at::cat(means).std().item<double>();
    result.scale_factor = 1.0 / result.latent_std;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& item : vae->named_parameters()) tensors.emplace_back(item.key(), item.value().detach().cpu());
  io::writeSafetensors(options.output, tensors,
                       {{"gesso.kind", "vae"},
                        {"gesso.scale_factor", std::to_string(result.scale_factor)},
                        {"gesso.steps", std::to_string(result.steps)},
                        {"gesso.reconstruction_l1", std::to_string(result.final_reconstruction_l1)}});
  return result;
}

}  // namespace gesso::training
