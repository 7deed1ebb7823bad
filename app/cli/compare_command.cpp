// gesso-cli compare: one prompt and seed through sampler × scheduler × steps × CFG cells, written as a labelled grid.
#include "commands.h"

#include "gesso/image/image_io.h"
#include "gesso/image/png_metadata.h"
#include "gesso/pipeline/compare.h"
#include "gesso/pipeline/output.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

namespace gesso::cli {

namespace {

struct CompareOptions {
  pipeline::GenerateRequest request;
  std::vector<std::string> samplers{"euler"};
  std::vector<std::string> schedulers{"normal"};
  std::vector<int> steps{20};
  std::vector<double> cfg_scales{7.0};
  std::string output;
};

void runCompare(const CompareOptions& options) {
  if (options.request.model.empty()) fail(ErrorCode::InvalidArgument, "--model is required");
  const auto cells = pipeline::compareCells(options.samplers, options.schedulers, options.steps, options.cfg_scales);
  auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(options.request));
  const bool tty = isatty(fileno(stderr)) != 0;
  pipeline::CompareCallbacks callbacks;
  callbacks.on_step = [&](int cell, const pipeline::StepEvent& event) {
    if (tty) {
      std::fprintf(stderr, "\rcell %d/%zu step %d/%d   ", cell + 1, cells.size(), event.step + 1, event.total_steps);
      std::fflush(stderr);
    }
  };
  const pipeline::CompareResult result = pipeline::compare(*model, options.request, cells, callbacks);
  if (tty) std::fprintf(stderr, "\n");
  std::error_code error;
  const auto parent = std::filesystem::path(options.output).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  image::GenerationParameters parameters =
      pipeline::infotextParameters(result.base, result.base.seed, 0, model->shortHash(), model->displayName());
  std::string cell_list;
  for (const auto& cell : result.cells) cell_list += (cell_list.empty() ? "" : "; ") + cell.label();
  parameters.extra["Compare cells"] = cell_list;
  image::writePng(options.output, result.grid, image::generationTextChunks(parameters, pipeline::requestToJson(result.base)));
  std::cout << options.output << '\n';
}

}  // namespace

void addCompareCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<CompareOptions>();
  pipeline::GenerateRequest& r = options->request;
  auto* compare = app.add_subcommand("compare", "Run sampler × scheduler × steps × CFG cells side by side into a grid PNG");
  addModelOptions(*compare, r);
  compare->add_option("--prompt", r.prompt, "Prompt")->required();
  compare->add_option("--negative", r.negative_prompt, "Negative prompt");
  compare->add_option("--seed", r.seed, "Seed (-1: random)")->capture_default_str();
  compare->add_option("--width", r.width, "Width")->capture_default_str();
  compare->add_option("--height", r.height, "Height")->capture_default_str();
  compare->add_option("--samplers", options->samplers, "Samplers, comma separated")->delimiter(',');
  compare->add_option("--schedulers", options->schedulers, "Schedulers, comma separated")->delimiter(',');
  compare->add_option("--steps", options->steps, "Step counts, comma separated")->delimiter(',');
  compare->add_option("--cfg", options->cfg_scales, "CFG scales, comma separated")->delimiter(',');
  compare->add_option("--output", options->output, "Grid PNG to write")->required();
  compare->callback([&context, options] {
    auto result = captureErrors([&] { runCompare(*options); });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
