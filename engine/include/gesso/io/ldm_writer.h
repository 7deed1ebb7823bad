// Single-file LDM/sgm checkpoints from networks in memory (a full fine-tune's result): the keys the checkpoint loader
// reads (model.diffusion_model., first_stage_model., cond_stage_model.transformer./model. or
// conditioner.embedders.N.transformer./model.), the layout ComfyUI and AUTOMATIC1111 load.
#pragma once

#include "gesso/models/autoencoder_kl.h"
#include "gesso/models/clip_text.h"
#include "gesso/models/model_config.h"
#include "gesso/models/unet.h"

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gesso::io {

// Writes `tensors` (already under their LDM names) to one .safetensors file, floating-point tensors converted to
// `dtype` when given (fp16, bf16 or fp32), through a temporary file renamed into place. `format: pt` is added to the
// metadata unless present. Used by writeLdmCheckpoint and `gesso-cli convert --to ldm`.
void writeLdmTensors(const std::string& path, std::vector<std::pair<std::string, at::Tensor>> tensors,
                     std::optional<c10::ScalarType> dtype, const std::map<std::string, std::string>& metadata);

// Every parameter and buffer of the networks under its checkpoint key (LoRA adapters, not being parameters, are left
// out), in `dtype`. Throws InvalidArgument for another dtype or a network on the meta device, and ConfigError when
// the text encoders do not match the config.
void writeLdmCheckpoint(const std::string& path, models::UNet& unet, models::AutoencoderKL& vae,
                        std::vector<models::TextEncoder>& text_encoders, const ModelConfig& config,
                        c10::ScalarType dtype, const std::map<std::string, std::string>& metadata);

}  // namespace gesso::io
