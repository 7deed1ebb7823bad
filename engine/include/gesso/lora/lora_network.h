// Trainable LoRA adapters on the UNet and text encoders, kohya's module set and file format (sd-scripts'
// networks/lora.py): attach() puts an adapter in the forward pass of each chosen layer; the base weights stay frozen
// and unchanged, detach() takes the adapters out again.
#pragma once

#include "gesso/lora/lora_names.h"
#include "gesso/models/clip_text.h"
#include "gesso/models/model_config.h"
#include "gesso/models/unet.h"

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gesso::lora {

struct LoraOptions {
  int rank = 16;         // kohya network_dim
  double alpha = 16;     // network_alpha; scale = alpha / rank (0: alpha = rank)
  int conv_rank = 0;     // > 0: LoCon, the ResBlock / Downsample / Upsample layers too (3×3 convs at this rank)
  double conv_alpha = 1;
  bool train_unet = true;
  bool train_text_encoder = false;
  c10::ScalarType dtype = c10::kFloat;  // of the adapter weights (they run in the input's dtype)
};

class LoraNetwork {
 public:
  // Adapters on the kohya module set: with train_unet the SpatialTransformer layers (Linear and 1×1 conv) at rank,
  // and with conv_rank > 0 the ResBlock/Downsample/Upsample layers (3×3 convs at conv_rank, Linear and 1×1 convs at
  // rank); with train_text_encoder every text encoder's q/k/v/out_proj and fc1/fc2 at rank. down: kaiming-uniform
  // (a = √5, torch.nn.Linear's default, from a CPU generator seeded with `seed`), up: zeros, so the output is
  // unchanged until trained. Adapters live on each weight's device. Throws InvalidArgument for ranks < 1.
  static std::shared_ptr<LoraNetwork> attach(models::UNet& unet, std::vector<models::TextEncoder>& text_encoders,
                                             const ModelConfig& config, const LoraOptions& options, uint64_t seed);
  ~LoraNetwork();
  LoraNetwork(const LoraNetwork&) = delete;
  LoraNetwork& operator=(const LoraNetwork&) = delete;

  std::vector<at::Tensor> parameters() const;  // every down and up (requires_grad), in module order
  // NAME.lora_down.weight, NAME.lora_up.weight, NAME.alpha (0-dim float32) for each module, in module order.
  std::vector<std::pair<std::string, at::Tensor>> stateDict() const;
  // Copies a stateDict() back (values converted to the adapters' dtype/device, tensors keep their identity). Strict:
  // MissingKey / UnexpectedKey / ShapeMismatch name the key; an alpha that differs from this network's is an error.
  void loadStateDict(const std::vector<std::pair<std::string, at::Tensor>>& state);
  // kohya's safetensors file: stateDict() in `dtype` (alpha too, as kohya does) with kohya's ss_* metadata
  // (ss_network_module, ss_network_dim, ss_network_alpha, ss_network_args, ss_base_model_version, ss_v2, ...) and
  // modelspec.*, then `metadata` laid over them. Atomic.
  void save(const std::string& path, const std::map<std::string, std::string>& metadata, c10::ScalarType dtype) const;
  void detach();  // removes the adapters from the layers (also done by the destructor)

  const LoraOptions& options() const { return options_; }
  size_t moduleCount() const { return modules_.size(); }
  std::vector<std::string> moduleNames() const;
  // The metadata save() writes before the caller's: what kohya's train_network.py would write for these options.
  std::map<std::string, std::string> kohyaMetadata() const;

 private:
  struct Module {
    LoraTarget target;
    at::Tensor down;
    at::Tensor up;
    int rank = 0;
    double alpha = 0;
  };
  LoraNetwork() = default;

  LoraOptions options_;
  ModelConfig config_;
  std::vector<Module> modules_;
  std::vector<std::shared_ptr<torch::nn::Module>> owners_;  // keeps the layers holding the adapters alive
  bool attached_ = false;
};

}  // namespace gesso::lora
