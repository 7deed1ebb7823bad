// gesso-cli bench: speed and memory of the engine's parts, measured in one run against a matrix-multiply peak
// measured on the same machine at the same moment (this machine is shared and noisy: compare ratios).
#include "commands.h"

#include "gesso/diffusion/denoiser.h"
#include "gesso/diffusion/discretization.h"
#include "gesso/diffusion/guidance.h"
#include "gesso/diffusion/sampler.h"
#include "gesso/diffusion/schedulers.h"
#include "gesso/models/model_config.h"
#include "gesso/models/unet.h"
#include "gesso/nn/flop_counter.h"
#include "gesso/nn/layers.h"
#include "gesso/pipeline/pipeline.h"
#include "gesso/runtime.h"
#include "gesso/util/process_memory.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

namespace gesso::cli {

namespace {

struct BenchOptions {
  std::string preset = "sd15";
  int size = 256;
  int batch = 1;
  int iterations = 3;
  int warmup = 1;
  std::string dtype = "fp32";
  std::string device = "cpu";
  bool as_json = false;
  int steps = 4;
  std::string sampler = "euler";
  double cfg_scale = 7.0;
};

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void synchronize(const at::Device& device) {
  if (device.is_cuda()) at::_local_scalar_dense(at::zeros({1}, at::TensorOptions().device(device)));
}

at::ScalarType parseDtype(const std::string& name) {
  if (name == "fp32") return at::kFloat;
  if (name == "bf16") return at::kBFloat16;
  if (name == "fp16") return at::kHalf;
  fail(ErrorCode::InvalidArgument, "--dtype must be fp32, bf16 or fp16, not '" + name + "'");
}

// Best-of-N GFLOP/s of a square matrix product: the machine's practical peak for this dtype and thread count.
double matmulPeakGflops(at::ScalarType dtype, const at::Device& device) {
  const int64_t n = 1024;
  const auto options = at::TensorOptions().dtype(dtype).device(device);
  at::Tensor a = at::randn({n, n}, options);
  at::Tensor b = at::randn({n, n}, options);
  at::mm(a, b);
  synchronize(device);
  double best_seconds = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    at::Tensor c = at::mm(a, b);
    synchronize(device);
    best_seconds = std::min(best_seconds, secondsSince(start));
  }
  return 2.0 * n * n * n / best_seconds / 1e9;
}

// A UNet of a family preset with random weights, in the requested dtype and device.
struct BenchModel {
  ModelConfig config;
  models::UNet unet{nullptr};
  int64_t parameters = 0;
  double build_seconds = 0;
  at::TensorOptions tensor_options;
  int64_t latent = 0;
};

BenchModel buildBenchModel(const BenchOptions& options) {
  if (options.size % 8 != 0 || options.size < 64) fail(ErrorCode::InvalidArgument, "--size must be a multiple of 8, at least 64");
  BenchModel model;
  model.config = presetConfig(options.preset);
  const auto build_start = std::chrono::steady_clock::now();
  model.unet = models::UNet(model.config.unet, at::TensorOptions().dtype(at::kFloat));
  nn::fillRandomWeights(*model.unet, 1234);
  model.unet->to(at::Device(options.device), parseDtype(options.dtype));
  model.unet->eval();
  model.build_seconds = secondsSince(build_start);
  for (const auto& parameter : model.unet->parameters()) model.parameters += parameter.numel();
  model.tensor_options = at::TensorOptions().dtype(parseDtype(options.dtype)).device(at::Device(options.device));
  model.latent = options.size / 8;
  return model;
}

// Random conditioning of the preset's shapes: context [B, 77, D] and, for SDXL, the vector [B, adm].
diffusion::Conditioning randomConditioning(const BenchModel& model, int64_t batch, at::Generator& generator) {
  diffusion::Conditioning conditioning;
  conditioning.crossattn = at::randn({batch, 77, model.config.unet.context_dim}, generator).to(model.tensor_options);
  if (model.config.unet.adm_in_channels > 0) {
    conditioning.vector = at::randn({batch, model.config.unet.adm_in_channels}, generator).to(model.tensor_options);
  }
  return conditioning;
}

void benchUnet(const BenchOptions& options) {
  const at::Device device(options.device);
  const at::ScalarType dtype = parseDtype(options.dtype);
  const RuntimeInfo runtime = runtimeInfo();
  const double peak_fp32 = matmulPeakGflops(at::kFloat, device);
  const double peak_dtype = dtype == at::kFloat ? peak_fp32 : matmulPeakGflops(dtype, device);

  torch::NoGradGuard no_grad;
  BenchModel model = buildBenchModel(options);
  const ModelConfig& config = model.config;
  const int64_t latent = model.latent;
  const int64_t parameters = model.parameters;
  const double build_seconds = model.build_seconds;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  const at::Tensor x = at::randn({options.batch, config.unet.in_channels, latent, latent}, generator).to(model.tensor_options);  // [B, C, h, w]
  const at::Tensor timesteps = at::full({options.batch}, 500.0, model.tensor_options);
  const diffusion::Conditioning conditioning = randomConditioning(model, options.batch, generator);
  models::UNet& unet = model.unet;
  const at::Tensor& context = conditioning.crossattn;
  const at::Tensor& y = conditioning.vector;
  for (int i = 0; i < options.warmup; ++i) unet->forward(x, timesteps, context, y);
  synchronize(device);
  std::vector<double> seconds;
  double flops = 0;
  for (int i = 0; i < options.iterations; ++i) {
    nn::FlopCounter counter;
    const auto start = std::chrono::steady_clock::now();
    unet->forward(x, timesteps, context, y);
    synchronize(device);
    seconds.push_back(secondsSince(start));
    flops = counter.flops();
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double achieved = flops / median / 1e9;
  const ProcessMemory memory = processMemory();

  nlohmann::json report{
      {"benchmark", "unet"},
      {"preset", options.preset},
      {"size", options.size},
      {"latent", {options.batch, config.unet.in_channels, latent, latent}},
      {"dtype", options.dtype},
      {"device", options.device},
      {"runtime", describe(runtime)},
      {"threads", runtime.intra_op_threads},
      {"blas", runtime.blas},
      {"parameters", parameters},
      {"build_seconds", build_seconds},
      {"forward_ms_median", median * 1e3},
      {"forward_ms_best", seconds.front() * 1e3},
      {"gflop_per_forward", flops / 1e9},
      {"achieved_gflops", achieved},
      {"matmul_peak_gflops_fp32", peak_fp32},
      {"matmul_peak_gflops", peak_dtype},
      {"ratio_to_matmul_peak", achieved / peak_dtype},
      {"peak_resident_mib", static_cast<double>(memory.peak_resident_bytes) / (1024.0 * 1024.0)},
  };
  if (options.as_json) {
    std::cout << report.dump(2) << '\n';
    return;
  }
  std::cout << "runtime: " << report["runtime"].get<std::string>() << '\n'
            << "unet " << options.preset << " (" << parameters / 1e6 << " M parameters, random weights), " << options.dtype
            << " on " << options.device << ", image " << options.size << "x" << options.size << " (latent " << latent << "x"
            << latent << "), batch " << options.batch << '\n'
            << "  forward: " << median * 1e3 << " ms median, " << seconds.front() * 1e3 << " ms best of "
            << options.iterations << '\n'
            << "  work: " << flops / 1e9 << " GFLOP per forward, achieved " << achieved << " GFLOP/s\n"
            << "  matrix-multiply peak (1024^3, same run): " << peak_dtype << " GFLOP/s " << options.dtype
            << " (fp32 " << peak_fp32 << "); ratio " << achieved / peak_dtype << '\n'
            << "  peak resident memory: " << report["peak_resident_mib"].get<double>() << " MiB\n";
}


// Sampling steps with classifier-free guidance (one batched UNet call per step), timed without previews and with a
// latent preview of the denoised estimate at every step: the preview's cost as a share of a step.
void benchSample(const BenchOptions& options) {
  torch::NoGradGuard no_grad;
  BenchModel model = buildBenchModel(options);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  const diffusion::Conditioning cond = randomConditioning(model, 1, generator);
  const diffusion::Conditioning uncond = randomConditioning(model, 1, generator);
  diffusion::GuidanceOptions guidance;
  guidance.cfg_scale = options.cfg_scale;
  const diffusion::GuidedDenoiser guided(diffusion::Denoiser(diffusion::unetNetwork(model.unet)), cond, uncond, guidance);
  const diffusion::DiscreteSchedule schedule = diffusion::DiscreteSchedule::stableDiffusion();
  diffusion::SchedulerContext scheduler_context;
  scheduler_context.schedule = &schedule;
  const at::Tensor sigmas = diffusion::makeSigmas("karras", scheduler_context, options.steps);
  const at::Tensor noise = at::randn({options.batch, model.config.unet.in_channels, model.latent, model.latent}, generator);
  const at::Tensor x = (noise * sigmas[0].item<double>()).to(model.tensor_options);  // [B, 4, h, w]

  // Returns seconds per step; `preview_seconds` sums the time spent making previews.
  auto run = [&](bool with_previews, double& preview_seconds) {
    diffusion::SamplerContext context;
    context.denoiser = [&](const at::Tensor& latent, const at::Tensor& sigma) { return guided(latent, sigma); };
    context.noise_seed = 1;
    preview_seconds = 0;
    if (with_previews) {
      context.on_step = [&](const diffusion::StepInfo& step) {
        const auto start = std::chrono::steady_clock::now();
        const auto images = pipeline::latentPreviewImages(step.denoised, model.config.family);
        preview_seconds += secondsSince(start);
      };
    }
    const auto start = std::chrono::steady_clock::now();
    diffusion::sample(options.sampler, context, x, sigmas);
    synchronize(at::Device(options.device));
    return secondsSince(start) / options.steps;
  };
  double unused = 0;
  for (int i = 0; i < options.warmup; ++i) run(false, unused);
  double preview_seconds = 0;
  const double plain = run(false, unused);
  const double with_previews = run(true, preview_seconds);
  const double preview_per_step = preview_seconds / options.steps;

  nlohmann::json report{
      {"benchmark", "sample"},
      {"preset", options.preset},
      {"size", options.size},
      {"dtype", options.dtype},
      {"device", options.device},
      {"sampler", options.sampler},
      {"steps", options.steps},
      {"cfg_scale", options.cfg_scale},
      {"runtime", describe(runtimeInfo())},
      {"step_ms_without_previews", plain * 1e3},
      {"step_ms_with_previews", with_previews * 1e3},
      {"preview_ms", preview_per_step * 1e3},
      {"preview_share_of_step", preview_per_step / plain},
  };
  if (options.as_json) {
    std::cout << report.dump(2) << '\n';
    return;
  }
  std::cout << "runtime: " << report["runtime"].get<std::string>() << '\n'
            << "sample " << options.preset << " (random weights), " << options.sampler << ", " << options.steps
            << " steps, CFG " << options.cfg_scale << " (one batched UNet call per step), " << options.size << "x"
            << options.size << ", " << options.dtype << " on " << options.device << '\n'
            << "  step without previews: " << plain * 1e3 << " ms\n"
            << "  step with a preview every step: " << with_previews * 1e3 << " ms (the preview itself: "
            << preview_per_step * 1e3 << " ms, " << 100.0 * preview_per_step / plain << " % of a step)\n";
}

// Training steps of a full UNet fine-tune (forward, MSE backward, AdamW step) on random inputs, without and with
// gradient checkpointing: seconds per step and peak memory (process peak RSS on the CPU, reset between the two).
void benchTrain(const BenchOptions& options) {
  BenchModel model = buildBenchModel(options);
  const at::Device device(options.device);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  const at::Tensor x = at::randn({options.batch, model.config.unet.in_channels, model.latent, model.latent}, generator).to(model.tensor_options);
  const at::Tensor target = at::randn(x.sizes(), generator).to(model.tensor_options);
  const at::Tensor timesteps = at::randint(0, 1000, {options.batch}, generator).to(model.tensor_options);
  const diffusion::Conditioning conditioning = randomConditioning(model, options.batch, generator);
  std::vector<at::Tensor> parameters = model.unet->parameters();
  for (auto& p : parameters) p.requires_grad_(true);
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(1e-6));

  struct Measure {
    double step_seconds = 0;
    double peak_mib = 0;
  };
  auto measure = [&](bool checkpointing) {
    model.unet->setGradientCheckpointing(checkpointing);
    auto step = [&] {
      optimizer.zero_grad();
      const at::Tensor out = model.unet->forward(x, timesteps, conditioning.crossattn, conditioning.vector);
      (out.to(at::kFloat) - target.to(at::kFloat)).pow(2).mean().backward();
      optimizer.step();
      synchronize(device);
    };
    for (int i = 0; i < options.warmup; ++i) step();
    { std::ofstream("/proc/self/clear_refs") << "5"; }  // resets the peak RSS (Linux >= 4.0)
    std::vector<double> seconds;
    for (int i = 0; i < options.iterations; ++i) {
      const auto start = std::chrono::steady_clock::now();
      step();
      seconds.push_back(secondsSince(start));
    }
    std::sort(seconds.begin(), seconds.end());
    return Measure{seconds[seconds.size() / 2], static_cast<double>(processMemory().peak_resident_bytes) / (1024.0 * 1024.0)};
  };
  // Checkpointed first: memory the plain run frees may stay resident and would inflate a later peak.
  const Measure checkpointed = measure(true);
  const Measure plain = measure(false);
  model.unet->setGradientCheckpointing(false);

  nlohmann::json report{
      {"benchmark", "train"},
      {"preset", options.preset},
      {"size", options.size},
      {"batch", options.batch},
      {"dtype", options.dtype},
      {"device", options.device},
      {"runtime", describe(runtimeInfo())},
      {"parameters", model.parameters},
      {"seconds_per_step", plain.step_seconds},
      {"seconds_per_step_checkpointing", checkpointed.step_seconds},
      {"peak_resident_mib", plain.peak_mib},
      {"peak_resident_mib_checkpointing", checkpointed.peak_mib},
      {"memory_note", device.is_cuda() ? "process RSS only; GPU memory is not measured by this build" : "process peak RSS"},
  };
  if (options.as_json) {
    std::cout << report.dump(2) << '\n';
    return;
  }
  std::cout << "runtime: " << report["runtime"].get<std::string>() << '\n'
            << "train (full UNet, AdamW) " << options.preset << " (" << model.parameters / 1e6 << " M parameters), " << options.size
            << "x" << options.size << ", batch " << options.batch << ", " << options.dtype << " on " << options.device << '\n'
            << "  without gradient checkpointing: " << plain.step_seconds << " s/step, peak " << plain.peak_mib << " MiB\n"
            << "  with gradient checkpointing:    " << checkpointed.step_seconds << " s/step, peak " << checkpointed.peak_mib << " MiB\n";
}

}  // namespace

void addBenchCommand(CLI::App& app, CommandContext& context) {
  auto* bench = app.add_subcommand("bench", "Measure speed and memory (random weights, no files needed; generate: a real model)");
  bench->require_subcommand(1);
  auto options = std::make_shared<BenchOptions>();
  auto* unet = bench->add_subcommand("unet", "Time UNet forwards of a family preset and compare with a matmul peak");
  unet->add_option("--preset", options->preset, "sd15, sd21, sd21-v or sdxl")->capture_default_str();
  unet->add_option("--size", options->size, "Image side in pixels (latent = size / 8)")->capture_default_str();
  unet->add_option("--batch", options->batch, "Batch size")->capture_default_str();
  unet->add_option("--iterations", options->iterations, "Timed forwards")->capture_default_str()->check(CLI::PositiveNumber);
  unet->add_option("--warmup", options->warmup, "Untimed forwards first")->capture_default_str();
  unet->add_option("--dtype", options->dtype, "fp32, bf16 or fp16")->capture_default_str();
  unet->add_option("--device", options->device, "cpu or cuda[:N]")->capture_default_str();
  unet->add_flag("--json", options->as_json, "Print JSON");
  auto* sample = bench->add_subcommand("sample", "Time sampling steps with CFG, without and with latent previews");
  sample->add_option("--preset", options->preset, "sd15, sd21, sd21-v or sdxl")->capture_default_str();
  sample->add_option("--size", options->size, "Image side in pixels (latent = size / 8)")->capture_default_str();
  sample->add_option("--steps", options->steps, "Sampling steps")->capture_default_str()->check(CLI::PositiveNumber);
  sample->add_option("--sampler", options->sampler, "Sampler name (gesso-cli samplers)")->capture_default_str();
  sample->add_option("--cfg", options->cfg_scale, "Guidance scale")->capture_default_str();
  sample->add_option("--warmup", options->warmup, "Untimed runs first")->capture_default_str();
  sample->add_option("--dtype", options->dtype, "fp32, bf16 or fp16")->capture_default_str();
  sample->add_option("--device", options->device, "cpu or cuda[:N]")->capture_default_str();
  sample->add_flag("--json", options->as_json, "Print JSON");
  auto* train = bench->add_subcommand("train", "Time full-UNet training steps without and with gradient checkpointing");
  train->add_option("--preset", options->preset, "sd15, sd21, sd21-v or sdxl")->capture_default_str();
  train->add_option("--size", options->size, "Image side in pixels (latent = size / 8)")->capture_default_str();
  train->add_option("--batch", options->batch, "Batch size")->capture_default_str();
  train->add_option("--iterations", options->iterations, "Timed steps")->capture_default_str()->check(CLI::PositiveNumber);
  train->add_option("--warmup", options->warmup, "Untimed steps first")->capture_default_str();
  train->add_option("--dtype", options->dtype, "fp32, bf16 or fp16 (the weights' dtype)")->capture_default_str();
  train->add_option("--device", options->device, "cpu or cuda[:N]")->capture_default_str();
  train->add_flag("--json", options->as_json, "Print JSON");
  train->callback([&context, options] {
    auto result = captureErrors([&] { benchTrain(*options); });
    if (!result) reportError(context, result.error());
  });
  sample->callback([&context, options] {
    auto result = captureErrors([&] { benchSample(*options); });
    if (!result) reportError(context, result.error());
  });
  unet->callback([&context, options] {
    auto result = captureErrors([&] { benchUnet(*options); });
    if (!result) reportError(context, result.error());
  });
  addBenchGenerateCommand(*bench, context);
}

}  // namespace gesso::cli
