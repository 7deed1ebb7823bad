// gesso-cli subcommands. Each command file registers its subcommand on the CLI11 app; the callback runs it
// and sets the process exit code through CommandContext.
#pragma once

#include <CLI/CLI.hpp>

#include "gesso/error.h"
#include "gesso/pipeline/generate_request.h"

#include <string>

namespace gesso::cli {

struct CommandContext {
  int exit_code = 0;
};

// Prints an engine error to stderr and sets a failing exit code.
void reportError(CommandContext& context, const Error& error);

void addInspectCommand(CLI::App& app, CommandContext& context);
void addInfoCommand(CLI::App& app, CommandContext& context);
void addDebugCommand(CLI::App& app, CommandContext& context);
void addBenchCommand(CLI::App& app, CommandContext& context);
// The options that choose a model and where it runs (--model, --config, --vae, --tokenizer, --device, --precision),
// shared by the commands that generate.
void addModelOptions(CLI::App& command, pipeline::GenerateRequest& request);
// Sets request.model to the bundled gesso-shapes model when it is empty, and then its trained size (64x64) unless
// `command` was given --width / --height; InvalidArgument naming the folders searched when the model is missing.
void useBundledModelIfUnset(pipeline::GenerateRequest& request, const CLI::App& command);
// `bench generate` (bench_generate.cpp), registered by addBenchCommand.
void addBenchGenerateCommand(CLI::App& bench, CommandContext& context);

void addGenerateCommand(CLI::App& app, CommandContext& context);
void addCompareCommand(CLI::App& app, CommandContext& context);
void addGridCommand(CLI::App& app, CommandContext& context);
void addConvertCommand(CLI::App& app, CommandContext& context);
void addTrainCommand(CLI::App& app, CommandContext& context);
// Bundled-model tooling: synthetic dataset, BPE vocabulary, VAE training.
void addMakeDatasetCommand(CLI::App& app, CommandContext& context);
void addMakeTokenizerCommand(CLI::App& app, CommandContext& context);
void addTrainVaeCommand(CLI::App& app, CommandContext& context);

}  // namespace gesso::cli
