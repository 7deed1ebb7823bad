// gesso-cli convert MODEL OUT [--dtype fp16|bf16|fp32] [--to ldm|diffusers] [--prune-ema] [--config FILE]: the
// command line of io::convertCheckpoint (a .ckpt/.pt read without executing anything, a .safetensors file or a
// diffusers folder, rewritten as one LDM-layout .safetensors file or a diffusers folder).
#include "commands.h"

#include "gesso/io/convert.h"

#include <memory>
#include <string>

namespace gesso::cli {

void addConvertCommand(CLI::App& app, CommandContext& context) {
  auto* command = app.add_subcommand(
      "convert", "Convert a checkpoint (.ckpt/.pt read without running code, .safetensors or a diffusers folder) to "
                 "one .safetensors file or a diffusers folder");
  struct Options {
    io::ConvertOptions convert;
    std::string to = "ldm";
  };
  auto options = std::make_shared<Options>();
  command->add_option("MODEL", options->convert.input, "A .ckpt/.pt file, a .safetensors file or a diffusers folder")->required();
  command->add_option("OUT", options->convert.output, "The .safetensors file (--to ldm) or folder (--to diffusers) to write")->required();
  command->add_option("--dtype", options->convert.dtype, "Floating-point type of the output: fp16, bf16 or fp32 (default: keep)")
      ->check(CLI::IsMember({"fp16", "bf16", "fp32"}));
  command->add_option("--to", options->to, "Output layout: ldm (one file, original key names) or diffusers (a folder)")
      ->check(CLI::IsMember({"ldm", "diffusers"}));
  command->add_option("--config", options->convert.config,
                      "--to diffusers: a model config (LDM/sgm YAML, diffusers or CLIP config.json) to use instead of the "
                      "one found beside MODEL or detected from tensor shapes");
  command->add_flag("--prune-ema", options->convert.prune_ema, "Drop the model_ema.* tensors of a training checkpoint");
  command->add_option("--vae", options->convert.vae,
                      "Bake this VAE into the output: it replaces the checkpoint's first_stage_model.* tensors (a file "
                      "or folder that generate --vae reads)");
  command->callback([&context, options] {
    options->convert.layout = options->to == "diffusers" ? io::ConvertLayout::Diffusers : io::ConvertLayout::Ldm;
    auto result = captureErrors([&] { return io::convertCheckpoint(options->convert); });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
