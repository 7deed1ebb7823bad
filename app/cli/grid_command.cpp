// gesso-cli grid: prompts × seeds from one model in a labelled grid (rows: prompts, columns: seeds), like
// AUTOMATIC1111's X/Y plot over "Prompt S/R" and "Seed"; docs/bundled-model.md's grid is made with it.
#include "commands.h"

#include "gesso/image/image_io.h"
#include "gesso/pipeline/compare.h"
#include "gesso/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace gesso::cli {

namespace {

struct GridOptions {
  pipeline::GenerateRequest request;
  std::vector<std::string> prompts;
  std::string prompts_file;
  std::vector<int64_t> seeds{1, 2, 3, 4};
  std::string output;
};

std::vector<std::string> readPromptLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorCode::FileNotFound, "--prompts-file: cannot read '" + path + "'");
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) prompts.push_back(line);
  }
  return prompts;
}

void runGrid(GridOptions options, const CLI::App& command) {
  if (!options.prompts_file.empty()) {
    const std::vector<std::string> lines = readPromptLines(options.prompts_file);
    options.prompts.insert(options.prompts.end(), lines.begin(), lines.end());
  }
  if (options.prompts.empty()) fail(ErrorCode::InvalidArgument, "give --prompt (repeatable) or --prompts-file");
  if (options.seeds.empty()) fail(ErrorCode::InvalidArgument, "--seeds is empty");
  pipeline::GenerateRequest& request = options.request;
  useBundledModelIfUnset(request, command);
  request.batch_size = request.batch_count = 1;
  pipeline::validateRequest(request);
  auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
  std::vector<image::Image> images;
  std::vector<std::string> labels;
  for (size_t row = 0; row < options.prompts.size(); ++row) {
    for (const int64_t seed : options.seeds) {
      request.prompt = options.prompts[row];
      request.seed = seed;
      images.push_back(pipeline::generate(*model, request).images.front().image);
      labels.push_back("prompt " + std::to_string(row + 1) + " seed " + std::to_string(seed));
      spdlog::info("{}/{}: {}", images.size(), options.prompts.size() * options.seeds.size(), labels.back());
    }
  }
  const auto parent = std::filesystem::path(options.output).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  image::writePng(options.output, pipeline::labelledGrid(images, labels, static_cast<int>(options.seeds.size())));
  std::cout << options.output << '\n';
}

}  // namespace

void addGridCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<GridOptions>();
  pipeline::GenerateRequest& r = options->request;
  auto* grid = app.add_subcommand("grid", "Prompts x seeds from one model in a labelled grid PNG (rows: prompts, columns: seeds)");
  addModelOptions(*grid, r);
  grid->add_option("--prompt", options->prompts, "A prompt (repeatable; one row each)");
  grid->add_option("--prompts-file", options->prompts_file, "File with one prompt per line (rows after any --prompt)");
  grid->add_option("--seeds", options->seeds, "Seeds, comma separated (one column each)")->delimiter(',')->capture_default_str();
  grid->add_option("--negative", r.negative_prompt, "Negative prompt");
  grid->add_option("--sampler", r.sampler, "Sampler (see `gesso-cli samplers`)")->capture_default_str();
  grid->add_option("--scheduler", r.scheduler, "Scheduler (see `gesso-cli samplers`)")->capture_default_str();
  grid->add_option("--steps", r.steps, "Sampling steps")->capture_default_str();
  grid->add_option("--cfg", r.cfg_scale, "Classifier-free guidance scale")->capture_default_str();
  grid->add_option("--width", r.width, "Width in pixels")->capture_default_str();
  grid->add_option("--height", r.height, "Height in pixels")->capture_default_str();
  grid->add_option("--output", options->output, "Grid PNG to write")->required();
  grid->callback([&context, options, grid] {
    auto result = captureErrors([&] { runGrid(*options, *grid); });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
