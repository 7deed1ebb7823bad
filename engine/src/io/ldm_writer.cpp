// Single-file LDM/sgm checkpoints; see ldm_writer.h.
#include "gesso/io/ldm_writer.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/model_loader.h"

#include <ATen/ATen.h>

#include <set>

namespace gesso::io {

void writeLdmTensors(const std::string& path, std::vector<std::pair<std::string, at::Tensor>> tensors,
                     std::optional<c10::ScalarType> dtype, const std::map<std::string, std::string>& metadata) {
  if (dtype && *dtype != at::kFloat && *dtype != at::kHalf && *dtype != at::kBFloat16) {
    fail(ErrorCode::InvalidArgument, path + ": a checkpoint is written in fp32, fp16 or bf16");
  }
  if (tensors.empty()) fail(ErrorCode::InvalidArgument, path + ": nothing to write");
  for (auto& [name, tensor] : tensors) {
    if (tensor.device().is_meta()) fail(ErrorCode::InvalidArgument, path + ": '" + name + "' has no data (meta device)");
    if (dtype && at::isFloatingType(tensor.scalar_type())) tensor = tensor.to(*dtype);
  }
  std::map<std::string, std::string> all = metadata;
  all.emplace("format", "pt");
  writeSafetensors(path, tensors, all);
}

void writeLdmCheckpoint(const std::string& path, models::UNet& unet, models::AutoencoderKL& vae,
                        std::vector<models::TextEncoder>& text_encoders, const ModelConfig& config,
                        c10::ScalarType dtype, const std::map<std::string, std::string>& metadata) {
  if (text_encoders.size() != config.text_encoders.size()) {
    fail(ErrorCode::ConfigError, path + ": the config has " + std::to_string(config.text_encoders.size()) + " text encoders, " +
                                     std::to_string(text_encoders.size()) + " were given");
  }
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::set<std::string> seen;
  auto add = [&](torch::nn::Module& module, const std::string& prefix) {
    auto put = [&](const std::string& name, const at::Tensor& tensor) {
      if (seen.insert(prefix + name).second) tensors.emplace_back(prefix + name, tensor.detach());
    };
    for (const auto& item : module.named_parameters()) put(item.key(), item.value());
    for (const auto& item : module.named_buffers()) put(item.key(), item.value());
  };
  add(*unet, unetPrefix());
  add(*vae, vaePrefix());
  for (size_t i = 0; i < text_encoders.size(); ++i) add(*text_encoders[i], textEncoderPrefix(config, i));
  writeLdmTensors(path, std::move(tensors), dtype, metadata);
}

}  // namespace gesso::io
