// gesso-cli: every engine feature, headless.
#include "commands.h"

#include "gesso/runtime.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

namespace gesso::cli {

void reportError(CommandContext& context, const Error& error) {
  spdlog::error("{}", error.message());
  context.exit_code = 1;
}

}  // namespace gesso::cli

int main(int argc, char** argv) {
  using namespace gesso::cli;
  CLI::App app{"gesso-cli: latent diffusion from the command line (Stable Diffusion 1.x / 2.x / XL)", "gesso-cli"};
  app.set_version_flag("--version", "gesso-cli 0.1.0");
  app.require_subcommand(1);
  // Option callbacks run while parsing, before any subcommand's callback: logging and threads are set up first.
  // Logs go to stderr: stdout carries the commands' results (listings, JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("gesso"));
  spdlog::set_pattern("%^[%l]%$ %v");
  spdlog::set_level(spdlog::level::info);
  static int threads = 0, blas_threads = 0;
  gesso::configureThreads(threads, blas_threads);
  app.add_flag_callback("-v,--verbose", [] { spdlog::set_level(spdlog::level::debug); }, "Log debug details");
  app.add_flag_callback("-q,--quiet", [] { spdlog::set_level(spdlog::level::err); }, "Log errors only");
  app.add_option_function<int>(
         "--threads", [](int count) { gesso::configureThreads(threads = count, blas_threads); },
         "CPU threads for LibTorch (default: every available core)");
  app.add_option_function<int>(
         "--blas-threads", [](int count) { gesso::configureThreads(threads, blas_threads = count); },
         "CPU threads for OpenBLAS (default: 1 on machines with 2 cores or fewer, where its pool and LibTorch's "
         "compete for the cores; else as --threads)");
  app.parse_complete_callback([] { spdlog::debug("{}", gesso::describe(gesso::runtimeInfo())); });

  CommandContext context;
  addInspectCommand(app, context);
  addInfoCommand(app, context);
  addDebugCommand(app, context);
  addBenchCommand(app, context);
  addGenerateCommand(app, context);
  addCompareCommand(app, context);
  addGridCommand(app, context);
  addConvertCommand(app, context);
  addTrainCommand(app, context);
  addMakeDatasetCommand(app, context);
  addMakeTokenizerCommand(app, context);
  addTrainVaeCommand(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return context.exit_code;
}
