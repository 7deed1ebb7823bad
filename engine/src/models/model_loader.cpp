// See model_loader.h.
#include "gesso/models/model_loader.h"

#include "gesso/error.h"
#include "gesso/io/state_dict.h"

#include <spdlog/spdlog.h>

namespace gesso {

namespace {

template <class Module>
Module loadInto(Module module, const io::Checkpoint& checkpoint, const std::string& prefix, const char* what,
                const BuildOptions& options) {
  if (checkpoint.namesUnder(prefix).empty()) {
    fail(ErrorCode::MissingKey, checkpoint.path() + ": no " + what + " in this checkpoint (no tensor under " + prefix + ")");
  }
  torch::NoGradGuard no_grad;
  const io::LoadReport report = io::loadComponent(*module, checkpoint, prefix);
  spdlog::debug("{}: {} tensors loaded from {}*, {} ignored", what, report.loaded.size(), prefix, report.ignored.size());
  module->to(options.device);
  module->eval();
  return module;
}

torch::TensorOptions tensorOptions(const BuildOptions& options) {
  return torch::TensorOptions().dtype(options.dtype).device(c10::kCPU);
}

}  // namespace

std::string unetPrefix() { return "model.diffusion_model."; }

std::string vaePrefix() { return "first_stage_model."; }

std::string textEncoderPrefix(const ModelConfig& config, size_t index) {
  if (index >= config.text_encoders.size()) {
    fail(ErrorCode::InvalidArgument, "text encoder " + std::to_string(index) + " requested, the model has " +
                                         std::to_string(config.text_encoders.size()));
  }
  const std::string embedder =
      config.family == ModelFamily::SDXL ? "conditioner.embedders." + std::to_string(index) + "." : "cond_stage_model.";
  const bool open_clip = config.text_encoders[index].layout == TextEncoderLayout::OpenClip;
  return embedder + (open_clip ? "model." : "transformer.");
}

models::UNet loadUNet(const io::Checkpoint& checkpoint, const ModelConfig& config, const BuildOptions& options) {
  return loadInto(models::UNet(config.unet, tensorOptions(options)), checkpoint, unetPrefix(), "UNet", options);
}

models::AutoencoderKL loadVae(const io::Checkpoint& checkpoint, const ModelConfig& config, const BuildOptions& options) {
  return loadInto(models::AutoencoderKL(config.vae, tensorOptions(options)), checkpoint, vaePrefix(), "VAE", options);
}

models::TextEncoder loadTextEncoder(const io::Checkpoint& checkpoint, const ModelConfig& config, size_t index,
                                    const BuildOptions& options) {
  const std::string prefix = textEncoderPrefix(config, index);
  return loadInto(models::TextEncoder(config.text_encoders[index], tensorOptions(options)), checkpoint, prefix,
                  "text encoder", options);
}

}  // namespace gesso
