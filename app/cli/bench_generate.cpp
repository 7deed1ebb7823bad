// gesso-cli bench generate: the wall time of whole images (text encoding, sampling with CFG, VAE decoding) from a
// real model, by default the bundled one: the figure a user waits for on first start.
#include "commands.h"

#include "gesso/pipeline/bundled_model.h"
#include "gesso/pipeline/pipeline.h"
#include "gesso/runtime.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

namespace gesso::cli {

namespace {

struct BenchGenerateOptions {
  pipeline::GenerateRequest request;
  int runs = 10;
  int warmup = 2;
  bool as_json = false;
};

void benchGenerate(BenchGenerateOptions options, const CLI::App& command) {
  pipeline::GenerateRequest& request = options.request;
  useBundledModelIfUnset(request, command);
  pipeline::validateRequest(request);
  auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
  std::vector<double> seconds;
  for (int run = 0; run < options.warmup + options.runs; ++run) {
    request.seed = 1000 + run;  // a new image each time, as a user's generations are
    const auto start = std::chrono::steady_clock::now();
    (void)pipeline::generate(*model, request);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (run >= options.warmup) seconds.push_back(elapsed);
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  nlohmann::json report{{"benchmark", "generate"},
                        {"model", request.model},
                        {"size", std::to_string(request.width) + "x" + std::to_string(request.height)},
                        {"sampler", request.sampler},
                        {"steps", request.steps},
                        {"cfg_scale", request.cfg_scale},
                        {"device", request.device},
                        {"runtime", describe(runtimeInfo())},
                        {"runs", options.runs},
                        {"seconds_per_image_median", median},
                        {"seconds_per_image_min", seconds.front()},
                        {"seconds_per_image_max", seconds.back()}};
  if (options.as_json) {
    std::cout << report.dump(2) << '\n';
    return;
  }
  std::cout << "runtime: " << report["runtime"].get<std::string>() << '\n'
            << "generate " << request.model << ", " << request.width << "x" << request.height << ", " << request.sampler
            << " " << request.steps << " steps, CFG " << request.cfg_scale << ", on " << request.device << ", "
            << options.runs << " images after " << options.warmup << " untimed\n"
            << "  seconds per image: median " << median << ", min " << seconds.front() << ", max " << seconds.back()
            << '\n';
}

}  // namespace

void addBenchGenerateCommand(CLI::App& bench, CommandContext& context) {
  auto options = std::make_shared<BenchGenerateOptions>();
  pipeline::GenerateRequest& r = options->request;
  r.prompt = pipeline::kBundledModelPrompt;
  r.width = r.height = 64;
  r.steps = 20;
  r.cfg_scale = 5.0;
  auto* command = bench.add_subcommand("generate", "Time whole images from a real model (default: the bundled gesso-shapes)");
  addModelOptions(*command, r);
  command->add_option("--prompt", r.prompt, "Prompt")->capture_default_str();
  command->add_option("--width", r.width, "Width in pixels")->capture_default_str();
  command->add_option("--height", r.height, "Height in pixels")->capture_default_str();
  command->add_option("--steps", r.steps, "Sampling steps")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--sampler", r.sampler, "Sampler (see `gesso-cli samplers`)")->capture_default_str();
  command->add_option("--cfg", r.cfg_scale, "Classifier-free guidance scale")->capture_default_str();
  command->add_option("--runs", options->runs, "Timed images")->capture_default_str()->check(CLI::PositiveNumber);
  command->add_option("--warmup", options->warmup, "Untimed images first")->capture_default_str();
  command->add_flag("--json", options->as_json, "Print JSON");
  command->callback([&context, options, command] {
    auto result = captureErrors([&] { benchGenerate(*options, *command); });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
