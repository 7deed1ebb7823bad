// Key accounting: strict, name-checked copies of checkpoint tensors into modules, and whole-file accounting.
#include "gesso/io/state_dict.h"

#include "gesso/error.h"
#include "gesso/util/shape_text.h"

#include <ATen/ATen.h>
#include <fnmatch.h>

#include <algorithm>
#include <map>

namespace gesso::io {

namespace {

struct IgnorableKey {
  const char* pattern;  // fnmatch pattern over the full key ('*' also crosses dots)
  const char* reason;
};

// Keys real checkpoints carry that no inference module needs.
constexpr IgnorableKey kIgnorable[] = {
    {"model_ema.*", "EMA copy of the weights (LDM training)"},
    {"*position_ids", "transformers' position index buffer (recomputed)"},
    {"*attn_mask", "open_clip causal mask buffer (recomputed)"},
    {"*logit_scale", "CLIP image-text temperature, unused for text encoding"},
    {"denoiser.sigmas", "sgm discretization buffer (recomputed from the schedule)"},
    {"first_stage_model.loss.*", "autoencoder training loss (discriminator, LPIPS)"},
    {"betas", "LDM noise schedule buffer (recomputed)"},
    {"alphas_cumprod", "LDM noise schedule buffer (recomputed)"},
    {"alphas_cumprod_prev", "LDM noise schedule buffer (recomputed)"},
    {"sqrt_alphas_cumprod", "LDM noise schedule buffer (recomputed)"},
    {"sqrt_one_minus_alphas_cumprod", "LDM noise schedule buffer (recomputed)"},
    {"log_one_minus_alphas_cumprod", "LDM noise schedule buffer (recomputed)"},
    {"sqrt_recip_alphas_cumprod", "LDM noise schedule buffer (recomputed)"},
    {"sqrt_recipm1_alphas_cumprod", "LDM noise schedule buffer (recomputed)"},
    {"posterior_variance", "LDM noise schedule buffer (recomputed)"},
    {"posterior_log_variance_clipped", "LDM noise schedule buffer (recomputed)"},
    {"posterior_mean_coef1", "LDM noise schedule buffer (recomputed)"},
    {"posterior_mean_coef2", "LDM noise schedule buffer (recomputed)"},
    {"logvar", "LDM learned-logvar training buffer"},
    {"v_pred", "marker of a v-prediction checkpoint (read by config detection)"},
};

// Module tensors a checkpoint may lack: buffers recomputed at construction, and open_clip's unused temperature.
constexpr const char* kOptionalModuleTensors[] = {"*position_ids", "*attn_mask", "*logit_scale"};

bool matches(const char* pattern, const std::string& key) { return fnmatch(pattern, key.c_str(), 0) == 0; }

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

const char* ignorableReason(const std::string& key) {
  for (const auto& entry : kIgnorable) {
    if (matches(entry.pattern, key)) return entry.reason;
  }
  return nullptr;
}

bool isOptionalModuleTensor(const std::string& name) {
  for (const char* pattern : kOptionalModuleTensors) {
    if (matches(pattern, name)) return true;
  }
  return false;
}

std::string listNames(const std::vector<std::string>& names, size_t limit) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < limit; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > limit) list += ", ... (" + std::to_string(names.size()) + " in all)";
  return list;
}

LoadReport loadComponent(torch::nn::Module& module, const Checkpoint& checkpoint, const std::string& prefix) {
  // The file the component's tensors came from: a replaced VAE is named by its own file, not the checkpoint's.
  const std::string& source_file =
      prefix == "first_stage_model." && !checkpoint.vaePath().empty() ? checkpoint.vaePath() : checkpoint.path();
  std::map<std::string, at::Tensor> targets;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) targets[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    if (item.value().defined()) targets[item.key()] = item.value();
  }

  LoadReport report;
  std::vector<std::string> mismatches, unexpected, missing;
  std::vector<std::pair<std::string, std::string>> plan;  // module name, checkpoint key
  std::map<std::string, bool> found;
  for (const auto& key : checkpoint.namesUnder(prefix)) {
    const std::string name = key.substr(prefix.size());
    const auto target = targets.find(name);
    if (target == targets.end()) {
      if (ignorableReason(key)) {
        report.ignored.push_back(key);
      } else {
        unexpected.push_back(key);
      }
      continue;
    }
    found[name] = true;
    const TensorSource& source = checkpoint.tensors().at(key);
    if (at::IntArrayRef(source.shape) != target->second.sizes()) {
      mismatches.push_back("\"" + key + "\" is " + shapeText(source.shape) + " in " + source_file +
                           " but the module's \"" + name + "\" is " + shapeText(target->second.sizes()));
      continue;
    }
    plan.emplace_back(name, key);
  }
  for (const auto& [name, tensor] : targets) {
    if (found.count(name)) continue;
    if (isOptionalModuleTensor(name)) {
      report.defaulted.push_back(name);
    } else {
      missing.push_back(prefix + name);
    }
  }
  if (!mismatches.empty()) {
    fail(ErrorCode::ShapeMismatch, std::to_string(mismatches.size()) + " tensor(s) with the wrong shape: " + listNames(mismatches, 5));
  }
  if (!missing.empty()) {
    fail(ErrorCode::MissingKey, source_file + " lacks " + std::to_string(missing.size()) +
                                    " tensor(s) the module needs: " + listNames(missing));
  }
  if (!unexpected.empty()) {
    fail(ErrorCode::UnexpectedKey, source_file + " has " + std::to_string(unexpected.size()) +
                                       " tensor(s) under \"" + prefix + "\" that the module does not have: " + listNames(unexpected));
  }

  at::NoGradGuard no_grad;
  for (const auto& [name, key] : plan) {
    at::Tensor& target = targets.at(name);
    if (target.is_meta()) {  // a network built on the meta device: names and shapes checked, nothing read
      report.loaded.push_back(key);
      continue;
    }
    at::Tensor value = checkpoint.tensors().at(key).load();
    if (!target.is_floating_point() && value.is_floating_point()) {
      value = value.round();  // integer buffers stored as float (position_ids in some files)
    }
    target.copy_(value.to(target.scalar_type()));
    report.loaded.push_back(key);
  }
  return report;
}

std::vector<ComponentPrefix> componentPrefixes(const ModelConfig& config) {
  std::vector<ComponentPrefix> components{{"unet", "model.diffusion_model."}, {"vae", "first_stage_model."}};
  if (config.family == ModelFamily::SDXL) {
    const size_t count = std::max<size_t>(1, config.text_encoders.size());
    for (size_t i = 0; i < count; ++i) {
      components.push_back({i == 0 ? "text_encoder" : "text_encoder_" + std::to_string(i + 1),
                            "conditioner.embedders." + std::to_string(i) + "."});
    }
  } else if (config.family == ModelFamily::SD1 || config.family == ModelFamily::SD2 || config.text_encoders.size() == 1) {
    components.push_back({"text_encoder", "cond_stage_model."});
  }
  return components;
}

KeyAccount accountKeys(const Checkpoint& checkpoint, const std::vector<ComponentPrefix>& components) {
  KeyAccount account;
  for (const auto& component : components) account.consumed.push_back({component.name, {}});
  for (const auto& [key, source] : checkpoint.tensors()) {
    size_t best = components.size();
    for (size_t i = 0; i < components.size(); ++i) {
      if (startsWith(key, components[i].prefix) &&
          (best == components.size() || components[i].prefix.size() > components[best].prefix.size())) {
        best = i;
      }
    }
    if (best < components.size()) {
      account.consumed[best].second.push_back(key);
    } else if (const char* reason = ignorableReason(key)) {
      account.ignored.emplace_back(key, reason);
    } else {
      account.unclaimed.push_back(key);
    }
  }
  return account;
}

void requireAllKeysAccounted(const Checkpoint& checkpoint, const KeyAccount& account) {
  if (account.unclaimed.empty()) return;
  fail(ErrorCode::UnexpectedKey, checkpoint.path() + " has " + std::to_string(account.unclaimed.size()) +
                                     " tensor(s) that belong to no model component and are not ignorable: " +
                                     listNames(account.unclaimed));
}

}  // namespace gesso::io
