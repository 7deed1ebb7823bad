// The bundled model's UNet + text encoder trainer: DDPM ε-prediction (Ho et al. 2020) on VAE latents computed once,
// captions dropped to "" at a rate so classifier-free guidance works, AdamW, EMA. See gesso/datasets/shapes_trainer.h.
#include "gesso/datasets/shapes_trainer.h"

#include "gesso/datasets/shapes.h"

#include "gesso/diffusion/discretization.h"
#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/autoencoder_kl.h"
#include "gesso/models/bpe_trainer.h"
#include "gesso/models/clip_text.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/model_loader.h"
#include "gesso/models/tokenizer.h"
#include "gesso/models/unet.h"
#include "gesso/nn/layers.h"
#include "gesso/training/vae_trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gesso::datasets {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Copies every parameter of `module` from the file's tensor of the same name (exactly those, no others).
void loadParameters(torch::nn::Module& module, const std::string& path) {
  auto file = io::SafetensorsFile::open(path);
  at::NoGradGuard no_grad;
  size_t used = 0;
  for (auto& item : module.named_parameters()) {
    if (!file->contains(item.key())) fail(ErrorCode::MissingKey, path + ": no tensor \"" + item.key() + "\"");
    const at::Tensor tensor = file->tensor(item.key());
    if (tensor.sizes() != item.value().sizes()) {
      fail(ErrorCode::ShapeMismatch, path + ": \"" + item.key() + "\" has the wrong shape for the config");
    }
    item.value().copy_(tensor);
    ++used;
  }
  if (used != file->tensors().size()) {
    fail(ErrorCode::UnexpectedKey, path + ": has " + std::to_string(file->tensors().size() - used) + " tensor(s) the VAE does not use");
  }
}

std::string captionOfImage(const std::string& image_path) {
  const fs::path caption = fs::path(image_path).replace_extension(".txt");
  std::ifstream in(caption, std::ios::binary);
  if (!in) return {};  // a missing caption is an empty one
  std::ostringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

double learningRate(const ShapesTrainOptions& options, int64_t step, double elapsed_s) {
  const int64_t warmup = std::min<int64_t>(200, options.steps / 10);
  if (step < warmup) return options.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, options.steps - warmup));
  // With a time limit the cosine follows whichever runs out first, steps or time, so a run cut short by the limit
  // still ends at the low learning rate.
  if (options.time_budget_s > 0) progress = std::min(1.0, std::max(progress, elapsed_s / options.time_budget_s));
  return options.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

void appendNamed(std::vector<std::pair<std::string, at::Tensor>>& out, torch::nn::Module& module,
                 const std::string& prefix, bool fp16) {
  for (const auto& item : module.named_parameters()) {
    at::Tensor value = item.value().detach();
    out.emplace_back(prefix + item.key(), fp16 ? value.to(at::kHalf).cpu() : value.contiguous().cpu());
  }
}

}  // namespace

ShapesTrainResult trainShapesModel(const ShapesTrainOptions& options,
                                   const std::function<void(const ShapesStepMetrics&)>& on_step,
                                   const std::function<void(const std::string&)>& on_message,
                                   const CancelToken* cancel) {
  auto message = [&](const std::string& text) {
    if (on_message) on_message(text);
  };
  const ConfigOverrides overrides = loadYamlConfig(options.config);
  if (!overrides.unet || !overrides.vae || !overrides.text_encoders) {
    fail(ErrorCode::ConfigError, options.config + ": needs unet_config, first_stage_config and "
                                                  "cond_stage_config.params.text_config");
  }
  ModelConfig config;
  config.family = ModelFamily::Custom;
  overrides.applyTo(config);
  const TextEncoderConfig& text_config = config.text_encoders.front();
  const auto options_f32 = at::TensorOptions().dtype(at::kFloat);
  const at::Device device = training::parseTrainingDevice(options.device);
  const auto device_f32 = options_f32.device(device);

  models::AutoencoderKL vae(config.vae, options_f32);
  loadParameters(*vae, options.vae);
  vae->to(device);
  vae->eval();
  const models::ClipTokenizer tokenizer = models::ClipTokenizer::load(options.tokenizer);
  if (static_cast<int>(tokenizer.vocabulary().size()) != text_config.vocab_size) {
    fail(ErrorCode::ConfigError, options.config + ": text_config.vocab_size is " + std::to_string(text_config.vocab_size) +
                                     " but the tokenizer in " + options.tokenizer + " has " +
                                     std::to_string(tokenizer.vocabulary().size()) + " tokens");
  }

  // Latents (posterior means × scale_factor) and token ids of every image, computed once.
  at::Tensor images;  // uint8 [N, 3, H, W]
  std::vector<std::string> captions;
  if (options.shapes_count > 0) {
    ShapesOptions shapes;
    shapes.count = options.max_images > 0 ? static_cast<int>(std::min<int64_t>(options.max_images, options.shapes_count))
                                          : options.shapes_count;
    shapes.seed = options.shapes_seed;
    ShapesTensors rendered = renderShapesDataset(shapes);
    images = rendered.images;
    captions = std::move(rendered.captions);
  } else {
    if (options.data.empty()) fail(ErrorCode::InvalidArgument, "give --data DIR or --shapes-count N");
    const training::ImageFolder folder = training::loadImageFolder(options.data, options.max_images);
    images = folder.images;
    for (const auto& path : folder.paths) captions.push_back(captionOfImage(path));
  }
  images = images.to(device);
  const int64_t count = images.size(0);
  const int64_t context = text_config.max_positions;
  const at::Tensor tokens = tokenizer.encodeBatch(captions, text_config.pad_token, context).to(device);  // [N, L]
  const at::Tensor empty_tokens = tokenizer.encodeBatch({""}, text_config.pad_token, context).to(device);  // [1, L]
  at::Tensor latents;
  {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> chunks;
    for (int64_t begin = 0; begin < count; begin += 64) {
      const at::Tensor x = images.slice(0, begin, std::min(count, begin + 64)).to(at::kFloat).div(127.5).sub(1.0);
      chunks.push_back(models::DiagonalGaussian::fromMoments(vae->encodeMoments(x)).mean * config.vae.scale_factor);
    }
    latents = at::cat(chunks);  // [N, 4, h, w]
  }
  message("encoded " + std::to_string(count) + " images to latents " + std::to_string(latents.size(2)) + "x" +
          std::to_string(latents.size(3)) + ", std " + std::to_string(latents.std().item<double>()));

  models::UNet unet(config.unet, options_f32);
  models::TextEncoder text(text_config, options_f32);
  nn::fillRandomWeights(*unet, options.seed);
  nn::fillRandomWeights(*text, options.seed + 1);  // on the CPU (its generator), then moved
  unet->to(device);
  text->to(device);
  {
    at::NoGradGuard no_grad;
    unet->out_conv->weight.zero_();  // the first prediction is 0: a stable start (as improved DDPM's zero_module)
    unet->out_conv->bias.zero_();
  }
  unet->train();
  text->train();
  std::vector<at::Tensor> parameters;
  ShapesTrainResult result;
  for (const auto& p : unet->parameters()) parameters.push_back(p), result.unet_parameters += p.numel();
  for (const auto& p : text->parameters()) parameters.push_back(p), result.text_parameters += p.numel();
  std::vector<at::Tensor> ema;
  if (options.ema_decay > 0) {
    for (const auto& p : parameters) ema.push_back(p.detach().clone());
  }
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay));

  const at::Tensor alphas_cumprod =
      diffusion::DiscreteSchedule::stableDiffusion().alphasCumprod().to(device_f32);  // [1000]
  const int64_t timesteps = alphas_cumprod.size(0);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed + 2);
  const auto start = Clock::now();
  auto window_start = start;
  at::Tensor window_loss = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));  // one sync per log line
  int64_t window_steps = 0;
  int64_t step = 0;
  for (; step < options.steps; ++step) {
    if (cancel && cancel->isCancelled()) break;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (options.time_budget_s > 0 && elapsed > options.time_budget_s) {
      message("time budget reached at step " + std::to_string(step));
      break;
    }
    const double lr = learningRate(options, step, std::chrono::duration<double>(Clock::now() - start).count());
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);

    // Random draws from the CPU generator (the same per seed on any device), then moved.
    const at::Tensor indices = at::randint(count, {options.batch_size}, generator, at::kLong).to(device);
    const at::Tensor x0 = latents.index_select(0, indices);  // [B, 4, h, w]
    const at::Tensor drop = at::rand({options.batch_size, 1}, generator, options_f32).lt(options.caption_dropout).to(device);
    const at::Tensor ids = at::where(drop, empty_tokens.expand({options.batch_size, context}),
                                     tokens.index_select(0, indices));  // [B, L]
    const at::Tensor t = at::randint(timesteps, {options.batch_size}, generator, at::kLong).to(device);
    const at::Tensor noise = at::randn(x0.sizes(), generator, options_f32).to(device);
    const at::Tensor ac = alphas_cumprod.index_select(0, t).view({-1, 1, 1, 1});  // [B, 1, 1, 1]
    const at::Tensor noised = ac.sqrt() * x0 + (1.0 - ac).sqrt() * noise;
    const at::Tensor context_states = text->conditioning(text->forward(ids));  // [B, L, D]
    const at::Tensor prediction = unet->forward(noised, t.to(at::kFloat), context_states);
    const at::Tensor loss = (prediction - noise).pow(2).mean();
    optimizer.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(parameters, 1.0);
    optimizer.step();
    if (!ema.empty()) {
      at::NoGradGuard no_grad;
      // Warm-up of the decay (as diffusers' EMAModel): early weights are forgotten quickly.
      const double decay = std::min(options.ema_decay, (1.0 + step) / (10.0 + step));
      for (size_t i = 0; i < ema.size(); ++i) ema[i].mul_(decay).add_(parameters[i].detach(), 1.0 - decay);
    }

    window_loss.add_(loss.detach().to(at::kDouble));
    ++window_steps;
    if ((step + 1) % options.log_every == 0 || step + 1 == options.steps) {
      const double loss_value = window_loss.item<double>() / window_steps;
      if (!std::isfinite(loss_value)) fail(ErrorCode::Internal, "training diverged by step " + std::to_string(step + 1) + "; lower --lr");
      const auto now = Clock::now();
      ShapesStepMetrics metrics;
      metrics.step = step + 1;
      metrics.total_steps = options.steps;
      metrics.loss = loss_value;
      metrics.lr = lr;
      metrics.seconds = std::chrono::duration<double>(now - start).count();
      metrics.images_per_second = static_cast<double>(window_steps * options.batch_size) /
                                  std::max(1e-9, std::chrono::duration<double>(now - window_start).count());
      result.final_loss = metrics.loss;
      if (on_step) on_step(metrics);
      window_loss.zero_();
      window_steps = 0;
      window_start = now;
    }
  }
  result.steps = step;
  if (window_steps > 0) result.final_loss = window_loss.item<double>() / window_steps;  // stopped between log lines
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();

  if (!ema.empty()) {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < ema.size(); ++i) parameters[i].copy_(ema[i]);
  }
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  appendNamed(tensors, *unet, unetPrefix(), options.fp16);
  appendNamed(tensors, *vae, vaePrefix(), options.fp16);
  ModelConfig sd1_layout = config;
  sd1_layout.family = ModelFamily::SD1;  // cond_stage_model.transformer.*: the single-encoder LDM layout
  appendNamed(tensors, *text, textEncoderPrefix(sd1_layout, 0), options.fp16);
  io::writeSafetensors(options.output, tensors,
                       {{"gesso.kind", "ldm"},
                        {"gesso.steps", std::to_string(result.steps)},
                        {"gesso.final_loss", std::to_string(result.final_loss)},
                        {"gesso.images", std::to_string(count)}});
  return result;
}

}  // namespace gesso::datasets
