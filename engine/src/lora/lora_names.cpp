// Layer tables for LoRA names; see lora_names.h. The module sets follow kohya sd-scripts' networks/lora.py
// (UNET_TARGET_REPLACE_MODULE, UNET_TARGET_REPLACE_MODULE_CONV2D_3X3, TEXT_ENCODER_TARGET_REPLACE_MODULE).
#include "gesso/lora/lora_names.h"

#include "gesso/error.h"
#include "gesso/io/diffusers_names.h"
#include "gesso/nn/spatial_transformer.h"
#include "gesso/nn/unet_blocks.h"
#include "models/clip_text_blocks.h"

#include <algorithm>
#include <map>
#include <memory>
#include <regex>

namespace gesso::lora {

namespace {

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

LoraTarget linearTarget(nn::LinearImpl& linear, const std::string& path) {
  LoraTarget target;
  target.module_path = path;
  target.weight = linear.weight;
  target.rows = linear.weight.size(0);
  target.adapters = &linear.adapters;
  return target;
}

LoraTarget convTarget(nn::Conv2dImpl& conv, const std::string& path) {
  LoraTarget target;
  target.module_path = path;
  target.weight = conv.weight;
  target.rows = conv.weight.size(0);
  target.conv = true;
  target.kernel_size = conv.weight.size(2);
  target.adapters = &conv.adapters;
  return target;
}

// LDM module path -> diffusers module path for every UNet weight, from the shared name tables.
std::map<std::string, std::string> unetDiffusersPaths(const std::vector<std::string>& parameter_names) {
  std::map<std::string, std::string> paths;
  for (const io::NameMapping& mapping : io::ldmUNetToDiffusers(parameter_names)) {
    if (mapping.sources.size() != 1 || !endsWith(mapping.target, ".weight") || !endsWith(mapping.sources[0], ".weight")) continue;
    const std::string ldm = mapping.sources[0].substr(0, mapping.sources[0].size() - 7);
    paths[ldm] = mapping.target.substr(0, mapping.target.size() - 7);
  }
  return paths;
}

}  // namespace

std::string kohyaName(const std::string& prefix, const std::string& module_path) {
  std::string name = prefix + module_path;
  std::replace(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(), '.', '_');
  return name;
}

std::vector<LoraTarget> unetTargets(models::UNet& unet) {
  // Containers that decide a layer's group, by module path.
  std::vector<std::pair<std::string, ModuleGroup>> containers;
  std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
  for (const auto& item : unet->named_modules("", /*include_self=*/false)) {
    modules.emplace(item.key(), item.value());
    torch::nn::Module* module = item.value().get();
    if (dynamic_cast<nn::SpatialTransformerImpl*>(module)) {
      containers.emplace_back(item.key() + ".", ModuleGroup::Transformer);
    } else if (dynamic_cast<nn::ResBlockImpl*>(module) || dynamic_cast<nn::DownsampleImpl*>(module) ||
               dynamic_cast<nn::UpsampleImpl*>(module)) {
      containers.emplace_back(item.key() + ".", ModuleGroup::ResidualBlock);
    }
  }
  std::vector<std::string> parameter_names;
  for (const auto& item : unet->named_parameters()) parameter_names.push_back(item.key());
  const std::map<std::string, std::string> diffusers = unetDiffusersPaths(parameter_names);

  std::vector<LoraTarget> targets;
  for (const std::string& name : parameter_names) {
    if (!endsWith(name, ".weight")) continue;
    const std::string path = name.substr(0, name.size() - 7);
    const auto found = modules.find(path);
    if (found == modules.end()) continue;
    LoraTarget target;
    if (auto* linear = dynamic_cast<nn::LinearImpl*>(found->second.get())) {
      target = linearTarget(*linear, path);
    } else if (auto* conv = dynamic_cast<nn::Conv2dImpl*>(found->second.get())) {
      target = convTarget(*conv, path);
    } else {
      continue;  // norms
    }
    target.component = ComponentKind::UNet;
    target.name = kohyaName("lora_unet_", path);
    for (const auto& [prefix, group] : containers) {
      if (startsWith(path, prefix)) target.group = group;
    }
    if (const auto it = diffusers.find(path); it != diffusers.end()) {
      if (it->second != path) target.aliases.push_back(kohyaName("lora_unet_", it->second));
      target.aliases.push_back("unet." + it->second);
    }
    targets.push_back(std::move(target));
  }
  return targets;
}

std::vector<LoraTarget> textEncoderTargets(models::TextEncoder& encoder, size_t index, const std::string& kohya_prefix,
                                           const std::string& dotted_prefix) {
  std::vector<LoraTarget> targets;
  auto add = [&](LoraTarget target, const std::string& hf_path) {
    target.component = ComponentKind::TextEncoder;
    target.text_encoder = index;
    target.group = ModuleGroup::TextEncoder;
    target.name = kohyaName(kohya_prefix, hf_path);
    target.aliases.push_back(dotted_prefix + "." + hf_path);
    targets.push_back(std::move(target));
  };
  const std::regex layer_number(R"((?:^|\.)(?:layers|resblocks)\.(\d+)\.)");
  for (const auto& item : encoder->named_modules("", /*include_self=*/false)) {
    torch::nn::Module* module = item.value().get();
    std::smatch match;
    const std::string& path = item.key();
    const std::string search = path + ".";
    if (!std::regex_search(search, match, layer_number)) continue;
    const std::string layer = "text_model.encoder.layers." + match[1].str() + ".";
    if (auto* attention = dynamic_cast<models::detail::HfClipAttentionImpl*>(module)) {
      add(linearTarget(*attention->q_proj, path + ".q_proj"), layer + "self_attn.q_proj");
      add(linearTarget(*attention->k_proj, path + ".k_proj"), layer + "self_attn.k_proj");
      add(linearTarget(*attention->v_proj, path + ".v_proj"), layer + "self_attn.v_proj");
      add(linearTarget(*attention->out_proj, path + ".out_proj"), layer + "self_attn.out_proj");
    } else if (auto* mlp = dynamic_cast<models::detail::HfClipMlpImpl*>(module)) {
      add(linearTarget(*mlp->fc1, path + ".fc1"), layer + "mlp.fc1");
      add(linearTarget(*mlp->fc2, path + ".fc2"), layer + "mlp.fc2");
    } else if (auto* open_attention = dynamic_cast<models::detail::OpenClipAttentionImpl*>(module)) {
      const int64_t width = open_attention->in_proj_weight.size(1);
      const char* names[3] = {"q_proj", "k_proj", "v_proj"};
      for (int64_t part = 0; part < 3; ++part) {
        LoraTarget target;
        target.module_path = path + ".in_proj_weight[" + names[part] + "]";
        target.weight = open_attention->in_proj_weight;
        target.row_offset = part * width;
        target.rows = width;
        target.adapters = &open_attention->in_proj_adapters;
        add(std::move(target), layer + "self_attn." + names[part]);
      }
      add(linearTarget(*open_attention->out_proj, path + ".out_proj"), layer + "self_attn.out_proj");
    } else if (auto* open_mlp = dynamic_cast<models::detail::OpenClipMlpImpl*>(module)) {
      add(linearTarget(*open_mlp->c_fc, path + ".c_fc"), layer + "mlp.fc1");
      add(linearTarget(*open_mlp->c_proj, path + ".c_proj"), layer + "mlp.fc2");
    }
  }
  return targets;
}

std::string textEncoderKohyaPrefix(const ModelConfig& config, size_t index) {
  if (config.family != ModelFamily::SDXL) {
    if (index != 0) fail(ErrorCode::InvalidArgument, "LoRA: an SD1/SD2 model has one text encoder, not " + std::to_string(index + 1));
    return "lora_te_";
  }
  return "lora_te" + std::to_string(index + 1) + "_";
}

std::vector<LoraTarget> modelTargets(models::UNet& unet, std::vector<models::TextEncoder>& text_encoders,
                                     const ModelConfig& config) {
  std::vector<LoraTarget> targets = unetTargets(unet);
  for (size_t i = 0; i < text_encoders.size(); ++i) {
    const std::string dotted = i == 0 ? "text_encoder" : "text_encoder_" + std::to_string(i + 1);
    std::vector<LoraTarget> text = textEncoderTargets(text_encoders[i], i, textEncoderKohyaPrefix(config, i), dotted);
    targets.insert(targets.end(), std::make_move_iterator(text.begin()), std::make_move_iterator(text.end()));
  }
  return targets;
}

}  // namespace gesso::lora
