// gesso-cli debug forward: runs one network of a model (fp32 on the CPU by default; --device/--precision for CUDA
// and half precision) on tensors from a safetensors file and writes its outputs as float32 — the tool for checking a
// port, a conversion or a device against another implementation.
//   unet:         x [B,C,H,W], timesteps [B] (float), context [B,T,D], optional y [B,adm]  -> out
//   vae-encode:   x [B,3,H,W] in [-1,1]                          -> mean, logvar (raw moments), moments, std
//   vae-decode:   z [B,4,h,w] raw latent (no scale factor)       -> out
//   text-encoder: input_ids [B,77] int64 -> last_hidden_state, penultimate_hidden_state, pooler_output, pooled
#include "commands.h"

#include "gesso/io/checkpoint.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/model_loader.h"
#include "gesso/runtime.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <iostream>

namespace gesso::cli {

namespace {

struct DebugForwardOptions {
  std::string component;
  std::string model;
  std::string config;
  std::string vae;
  std::string inputs;
  std::string output;
  int text_encoder = -1;
  std::string device = "cpu";
  std::string precision = "fp32";
};

using Outputs = std::vector<std::pair<std::string, at::Tensor>>;

class InputFile {
 public:
  InputFile(const std::string& path, c10::Device device) : file_(io::SafetensorsFile::open(path)), device_(device) {}

  bool has(const std::string& name) const { return file_->contains(name); }

  // A required input on the device in `dtype`, with the rank the component needs.
  at::Tensor get(const std::string& name, at::ScalarType dtype, int64_t rank) const {
    if (!file_->contains(name)) {
      fail(ErrorCode::MissingKey, file_->path() + ": input tensor '" + name + "' is missing");
    }
    at::Tensor tensor = file_->tensor(name);
    if (tensor.dim() != rank) {
      fail(ErrorCode::ShapeMismatch, file_->path() + ": input tensor '" + name + "' must have " + std::to_string(rank) +
                                         " dimensions, it has " + std::to_string(tensor.dim()));
    }
    return tensor.to(device_, dtype).contiguous();
  }

 private:
  std::shared_ptr<io::SafetensorsFile> file_;
  c10::Device device_;
};

// The text encoder to run: --text-encoder, else the one a text-encoder JSON config describes, else the first.
size_t chooseTextEncoder(const ModelConfig& config, const DebugForwardOptions& options) {
  if (config.text_encoders.empty()) fail(ErrorCode::MissingKey, options.model + ": the model has no text encoder");
  if (options.text_encoder >= 0) return static_cast<size_t>(options.text_encoder);
  const bool open_clip_config = options.config.size() >= 15 && options.config.rfind(".open_clip.json") == options.config.size() - 15;
  const bool hf_config = !open_clip_config && options.config.size() >= 5 && options.config.rfind(".json") == options.config.size() - 5;
  for (size_t i = 0; i < config.text_encoders.size(); ++i) {
    const bool open_clip = config.text_encoders[i].layout == TextEncoderLayout::OpenClip;
    if ((open_clip_config && open_clip) || (hf_config && !open_clip)) return i;
  }
  return 0;
}

Outputs runComponent(const DebugForwardOptions& options) {
  io::Checkpoint checkpoint = io::Checkpoint::open(options.model);
  if (!options.vae.empty()) checkpoint.replaceVae(options.vae);
  const ResolvedConfig resolved = resolveConfig(checkpoint, options.config);
  spdlog::info("model {}: {} ({}), config from {}", options.model, familyName(resolved.config.family),
               predictionName(resolved.config.prediction), resolved.source);
  BuildOptions build;
  build.device = parseDevice(options.device);
  build.dtype = parsePrecision(options.precision, build.device);
  if (build.device.is_cuda()) {
    // A checking tool wants true fp32: PyTorch lets cuDNN convolutions use TF32 by default (about 1e-3 off).
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  const InputFile inputs(options.inputs, build.device);
  const at::ScalarType real = build.dtype;
  torch::NoGradGuard no_grad;

  if (options.component == "unet") {
    models::UNet unet = loadUNet(checkpoint, resolved.config, build);
    const at::Tensor y = inputs.has("y") ? inputs.get("y", real, 2) : at::Tensor();
    return {{"out", unet->forward(inputs.get("x", real, 4), inputs.get("timesteps", at::kFloat, 1),
                                  inputs.get("context", real, 3), y)}};
  }
  if (options.component == "vae-encode") {
    models::AutoencoderKL vae = loadVae(checkpoint, resolved.config, build);
    const at::Tensor moments = vae->encodeMoments(inputs.get("x", real, 4));
    const auto gaussian = models::DiagonalGaussian::fromMoments(moments);
    return {{"mean", gaussian.mean}, {"logvar", gaussian.logvar}, {"std", gaussian.std}, {"moments", moments}};
  }
  if (options.component == "vae-decode") {
    models::AutoencoderKL vae = loadVae(checkpoint, resolved.config, build);
    return {{"out", vae->decode(inputs.get("z", real, 4))}};
  }
  if (options.component == "text-encoder") {
    const size_t index = chooseTextEncoder(resolved.config, options);
    models::TextEncoder encoder = loadTextEncoder(checkpoint, resolved.config, index, build);
    spdlog::info("text encoder {} ({})", index, textEncoderPrefix(resolved.config, index));
    const auto output = encoder->forward(inputs.get("input_ids", at::kLong, 2));
    Outputs outputs{{"last_hidden_state", output.last_hidden_state},
                    {"penultimate_hidden_state", output.penultimate_hidden_state},
                    {"pooler_output", output.pooler_output}};
    if (output.pooled.defined()) outputs.emplace_back("pooled", output.pooled);
    return outputs;
  }
  fail(ErrorCode::InvalidArgument, "--component must be unet, vae-encode, vae-decode or text-encoder, not '" +
                                       options.component + "'");
}

}  // namespace

void addDebugCommand(CLI::App& app, CommandContext& context) {
  auto* debug = app.add_subcommand("debug", "Tools for checking the engine against other implementations");
  debug->require_subcommand(1);
  auto options = std::make_shared<DebugForwardOptions>();
  auto* forward = debug->add_subcommand("forward", "Run one network on tensors from a file, write its outputs (float32)");
  forward->add_option("--component", options->component, "unet, vae-encode, vae-decode or text-encoder")
      ->required()
      ->check(CLI::IsMember({"unet", "vae-encode", "vae-decode", "text-encoder"}));
  forward->add_option("--model", options->model, "A .safetensors checkpoint or a diffusers folder")->required();
  forward->add_option("--config", options->config,
                      "LDM/sgm YAML, diffusers config.json, HF CLIPTextConfig or open_clip JSON (default: files beside "
                      "the model named after it)");
  forward->add_option("--vae", options->vae, "A standalone VAE replacing the model's");
  forward->add_option("--inputs", options->inputs, "Input tensors (.safetensors): see gesso-cli docs")->required();
  forward->add_option("--output", options->output, "Where to write the outputs (.safetensors)")->required();
  forward->add_option("--text-encoder", options->text_encoder,
                      "Which text encoder of several (0-based; default: the one --config describes, else 0)");
  forward->add_option("--device", options->device, "cpu or cuda[:N]")->capture_default_str();
  forward->add_option("--precision", options->precision, "fp32, bf16 or fp16 (CUDA)")->capture_default_str();
  forward->callback([&context, options] {
    auto result = captureErrors([&] {
      Outputs outputs = runComponent(*options);
      for (auto& [name, tensor] : outputs) tensor = tensor.to(at::kCPU, at::kFloat).contiguous();
      io::writeSafetensors(options->output, outputs, {{"component", options->component}, {"model", options->model}});
      for (const auto& [name, tensor] : outputs) {
        std::cout << name << " " << tensor.sizes() << '\n';
      }
      std::cout << "wrote " << options->output << '\n';
    });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
