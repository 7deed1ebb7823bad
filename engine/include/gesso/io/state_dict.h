// Key accounting: copying a checkpoint component into a module's parameters and buffers by name, and proving that
// every tensor of a checkpoint is consumed by some component or is on a short, named list of ignorable keys.
// A missing, unexpected or misshapen key is an error naming it; nothing is skipped silently.
#pragma once

#include "gesso/io/checkpoint.h"
#include "gesso/models/model_config.h"

#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace gesso::io {

// Why a checkpoint key may go unused (model_ema.*, *.position_ids, LDM schedule buffers, ...); nullptr if it may not.
const char* ignorableReason(const std::string& key);

// Module tensors that may stay as built when the checkpoint lacks them (position_ids, logit_scale, attn_mask).
bool isOptionalModuleTensor(const std::string& name);

struct LoadReport {
  std::vector<std::string> loaded;     // full checkpoint keys copied into the module (or checked, for meta tensors)
  std::vector<std::string> ignored;    // full keys under the prefix left unused, each on the ignorable list
  std::vector<std::string> defaulted;  // module names absent from the checkpoint but optional
};

// Copies every tensor under `prefix` into the module parameter or buffer named by the rest of the key, converted
// to that tensor's dtype and device. Tensors on the meta device are only checked (names and shapes; nothing is
// read), so a network built on kMeta validates a checkpoint's keys for free. Errors: ShapeMismatch (key and both shapes),
// MissingKey (module names without a tensor: up to 20 and the count), UnexpectedKey (keys without a module tensor).
LoadReport loadComponent(torch::nn::Module& module, const Checkpoint& checkpoint, const std::string& prefix);

struct ComponentPrefix {
  std::string name;    // "unet", "vae", "text_encoder", "text_encoder_2"
  std::string prefix;  // "model.diffusion_model.", ...
};

// The components a config's checkpoint holds, with the key prefix of each (text encoders: the embedder object,
// "cond_stage_model." or "conditioner.embedders.N.").
std::vector<ComponentPrefix> componentPrefixes(const ModelConfig& config);

struct KeyAccount {
  std::vector<std::pair<std::string, std::vector<std::string>>> consumed;  // component name -> its keys
  std::vector<std::pair<std::string, std::string>> ignored;               // key -> reason
  std::vector<std::string> unclaimed;                                      // neither: an error
};

// Sorts every key of the checkpoint into a component, the ignorable list or `unclaimed`.
KeyAccount accountKeys(const Checkpoint& checkpoint, const std::vector<ComponentPrefix>& components);
// Throws UnexpectedKey naming the checkpoint and up to 20 unclaimed keys (and their count) if any.
void requireAllKeysAccounted(const Checkpoint& checkpoint, const KeyAccount& account);

// "a, b, c, ... (N in all)": at most `limit` names.
std::string listNames(const std::vector<std::string>& names, size_t limit = 20);

}  // namespace gesso::io
