// gesso-cli bench: speed and memory of the engine's parts, measured in one run against a matrix-multiply peak
// measured on the same machine at the same moment (this machine is shared and noisy: compare ratios).
#include "commands.h"

#include "gesso/models/model_config.h"
#include "gesso/models/unet.h"
#include "gesso/nn/flop_counter.h"
#include "gesso/nn/layers.h"
#include "gesso/runtime.h"
#include "gesso/util/process_memory.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
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

void benchUnet(const BenchOptions& options) {
  const at::Device device(options.device);
  const at::ScalarType dtype = parseDtype(options.dtype);
  if (options.size % 8 != 0 || options.size < 64) fail(ErrorCode::InvalidArgument, "--size must be a multiple of 8, at least 64");
  const ModelConfig config = presetConfig(options.preset);
  const RuntimeInfo runtime = runtimeInfo();

  const double peak_fp32 = matmulPeakGflops(at::kFloat, device);
  const double peak_dtype = dtype == at::kFloat ? peak_fp32 : matmulPeakGflops(dtype, device);

  torch::NoGradGuard no_grad;
  const auto build_start = std::chrono::steady_clock::now();
  models::UNet unet(config.unet, at::TensorOptions().dtype(at::kFloat));
  nn::fillRandomWeights(*unet, 1234);
  unet->to(device, dtype);
  const double build_seconds = secondsSince(build_start);
  int64_t parameters = 0;
  for (const auto& parameter : unet->parameters()) parameters += parameter.numel();

  const int64_t latent = options.size / 8;
  const auto tensor_options = at::TensorOptions().dtype(dtype).device(device);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  const at::Tensor x = at::randn({options.batch, config.unet.in_channels, latent, latent}, generator).to(tensor_options);  // [B, C, h, w]
  const at::Tensor timesteps = at::full({options.batch}, 500.0, tensor_options);
  const at::Tensor context = at::randn({options.batch, 77, config.unet.context_dim}, generator).to(tensor_options);  // [B, 77, D]
  const at::Tensor y = config.unet.adm_in_channels > 0
                           ? at::randn({options.batch, config.unet.adm_in_channels}, generator).to(tensor_options)
                           : at::Tensor();

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

}  // namespace

void addBenchCommand(CLI::App& app, CommandContext& context) {
  auto* bench = app.add_subcommand("bench", "Measure speed and memory (random weights, no files needed)");
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
  unet->callback([&context, options] {
    auto result = captureErrors([&] { benchUnet(*options); });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
