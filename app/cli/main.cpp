// gesso-cli: every engine feature, headless.
#include "commands.h"

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
  bool verbose = false;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "Log debug details");
  app.add_flag("-q,--quiet", quiet, "Log errors only");
  // Logs go to stderr: stdout carries the commands' results (listings, JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("gesso"));
  app.parse_complete_callback([&] {
    spdlog::set_pattern("%^[%l]%$ %v");
    spdlog::set_level(verbose ? spdlog::level::debug : quiet ? spdlog::level::err : spdlog::level::info);
  });

  CommandContext context;
  addInspectCommand(app, context);
  addInfoCommand(app, context);
  addDebugCommand(app, context);
  addBenchCommand(app, context);
  addConvertCommand(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return context.exit_code;
}
