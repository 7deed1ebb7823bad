// Builds a checkpoint's networks with their weights: each component's tensors copied into the module parameters of
// the same name (converted to the requested dtype), every key of the component accounted for (io/state_dict.h).
#pragma once

#include "gesso/io/checkpoint.h"
#include "gesso/models/autoencoder_kl.h"
#include "gesso/models/clip_text.h"
#include "gesso/models/model_config.h"
#include "gesso/models/unet.h"

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstddef>
#include <string>

namespace gesso {

struct BuildOptions {
  c10::Device device{c10::kCPU};
  c10::ScalarType dtype = c10::kFloat;
};

// The key prefix of each network in the internal (LDM single-file) layout.
std::string unetPrefix();
std::string vaePrefix();
// Text encoder `index` of `config`: the embedder's prefix plus "transformer." (HF layout) or "model." (open_clip).
std::string textEncoderPrefix(const ModelConfig& config, size_t index);

// Each throws GessoError (MissingKey, UnexpectedKey, ShapeMismatch naming the keys) when the checkpoint's tensors do
// not fill the network exactly.
models::UNet loadUNet(const io::Checkpoint& checkpoint, const ModelConfig& config, const BuildOptions& options = {});
models::AutoencoderKL loadVae(const io::Checkpoint& checkpoint, const ModelConfig& config, const BuildOptions& options = {});
models::TextEncoder loadTextEncoder(const io::Checkpoint& checkpoint, const ModelConfig& config, size_t index,
                                    const BuildOptions& options = {});

}  // namespace gesso
