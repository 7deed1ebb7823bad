// LoraNetwork: kohya's LoRA modules as forward-pass adapters; see lora_network.h.
#include "gesso/lora/lora_network.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/util/shape_text.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <set>
#include <tuple>

namespace gesso::lora {

namespace {

// Python's repr of a float ("16.0", "0.5", "1e-05"), as kohya's str(float) metadata values read.
std::string pythonFloat(double value) {
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

std::string shapeOf(const at::Tensor& tensor) { return gesso::shapeText(tensor); }

}  // namespace

std::shared_ptr<LoraNetwork> LoraNetwork::attach(models::UNet& unet, std::vector<models::TextEncoder>& text_encoders,
                                                 const ModelConfig& config, const LoraOptions& options, uint64_t seed) {
  if (options.rank < 1) fail(ErrorCode::InvalidArgument, "LoRA rank must be >= 1, got " + std::to_string(options.rank));
  if (options.conv_rank < 0) fail(ErrorCode::InvalidArgument, "LoRA conv rank must be >= 0, got " + std::to_string(options.conv_rank));
  if (!std::isfinite(options.alpha) || !std::isfinite(options.conv_alpha)) fail(ErrorCode::InvalidArgument, "LoRA alpha must be finite");
  if (!options.train_unet && !options.train_text_encoder) {
    fail(ErrorCode::InvalidArgument, "LoRA: neither the UNet nor the text encoder is to be trained");
  }
  std::shared_ptr<LoraNetwork> network(new LoraNetwork());
  network->options_ = options;
  network->config_ = config;
  network->owners_.push_back(unet.ptr());
  for (auto& encoder : text_encoders) network->owners_.push_back(encoder.ptr());

  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (LoraTarget& target : modelTargets(unet, text_encoders, config)) {
    int rank = 0;
    double alpha = 0;
    const bool wide_conv = target.conv && target.kernel_size > 1;
    if (target.group == ModuleGroup::Transformer && options.train_unet) {
      rank = options.rank, alpha = options.alpha;
    } else if (target.group == ModuleGroup::ResidualBlock && options.train_unet && options.conv_rank > 0) {
      rank = wide_conv ? options.conv_rank : options.rank;
      alpha = wide_conv ? options.conv_alpha : options.alpha;
    } else if (target.group == ModuleGroup::TextEncoder && options.train_text_encoder) {
      rank = options.rank, alpha = options.alpha;
    }
    if (rank == 0) continue;
    if (alpha == 0) alpha = rank;  // kohya: alpha 0 or None means alpha = rank

    std::vector<int64_t> down_shape{rank, target.inFeatures()};
    std::vector<int64_t> up_shape{target.rows, rank};
    if (target.conv) {
      down_shape.insert(down_shape.end(), {target.kernel_size, target.kernel_size});
      up_shape.insert(up_shape.end(), {1, 1});
    }
    int64_t fan_in = 1;
    for (size_t i = 1; i < down_shape.size(); ++i) fan_in *= down_shape[i];
    // kaiming_uniform_(a=√5): bound = gain·√(3/fan_in) with gain = √(2/(1+a²)) = √(1/3), i.e. 1/√fan_in.
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    const auto options_on_device = at::TensorOptions().dtype(options.dtype).device(target.weight.device());
    at::Tensor down = at::empty(down_shape, at::kFloat).uniform_(-bound, bound, generator).to(options_on_device);
    at::Tensor up = at::zeros(up_shape, options_on_device);
    down.requires_grad_(true);
    up.requires_grad_(true);
    target.adapters->push_back(nn::LowRankAdapter{down, up, alpha / rank, target.row_offset});
    network->modules_.push_back(Module{std::move(target), down, up, rank, alpha});
  }
  if (network->modules_.empty()) fail(ErrorCode::InvalidArgument, "LoRA: the model has no layer of the chosen module set");
  network->attached_ = true;
  return network;
}

LoraNetwork::~LoraNetwork() { detach(); }

void LoraNetwork::detach() {
  if (!attached_) return;
  for (Module& module : modules_) {
    auto& adapters = *module.target.adapters;
    adapters.erase(std::remove_if(adapters.begin(), adapters.end(),
                                  [&](const nn::LowRankAdapter& adapter) { return adapter.down.is_same(module.down); }),
                   adapters.end());
  }
  attached_ = false;
}

std::vector<at::Tensor> LoraNetwork::parameters() const {
  std::vector<at::Tensor> parameters;
  for (const Module& module : modules_) {
    parameters.push_back(module.down);
    parameters.push_back(module.up);
  }
  return parameters;
}

std::vector<std::string> LoraNetwork::moduleNames() const {
  std::vector<std::string> names;
  for (const Module& module : modules_) names.push_back(module.target.name);
  return names;
}

std::vector<std::pair<std::string, at::Tensor>> LoraNetwork::stateDict() const {
  std::vector<std::pair<std::string, at::Tensor>> state;
  for (const Module& module : modules_) {
    state.emplace_back(module.target.name + ".lora_down.weight", module.down);
    state.emplace_back(module.target.name + ".lora_up.weight", module.up);
    state.emplace_back(module.target.name + ".alpha", at::scalar_tensor(module.alpha, at::kFloat));
  }
  return state;
}

void LoraNetwork::loadStateDict(const std::vector<std::pair<std::string, at::Tensor>>& state) {
  std::map<std::string, at::Tensor> by_name;
  for (const auto& [name, tensor] : state) {
    if (!by_name.emplace(name, tensor).second) fail(ErrorCode::InvalidFormat, "LoRA state: key '" + name + "' appears twice");
  }
  std::set<std::string> used;
  auto take = [&](const std::string& key) -> const at::Tensor& {
    const auto it = by_name.find(key);
    if (it == by_name.end()) fail(ErrorCode::MissingKey, "LoRA state: no tensor '" + key + "'");
    used.insert(key);
    return it->second;
  };
  torch::NoGradGuard no_grad;
  for (Module& module : modules_) {
    const at::Tensor& down = take(module.target.name + ".lora_down.weight");
    const at::Tensor& up = take(module.target.name + ".lora_up.weight");
    const at::Tensor& alpha = take(module.target.name + ".alpha");
    for (const auto& [key, source, destination] :
         {std::tuple<std::string, at::Tensor, at::Tensor>{module.target.name + ".lora_down.weight", down, module.down},
          std::tuple<std::string, at::Tensor, at::Tensor>{module.target.name + ".lora_up.weight", up, module.up}}) {
      if (source.sizes() != destination.sizes()) {
        fail(ErrorCode::ShapeMismatch, "LoRA state: '" + key + "' is " + shapeOf(source) + ", the network's is " + shapeOf(destination));
      }
    }
    if (alpha.numel() != 1 || std::abs(alpha.to(at::kDouble).item<double>() - module.alpha) > 1e-3 * std::max(1.0, std::abs(module.alpha))) {
      fail(ErrorCode::ShapeMismatch, "LoRA state: '" + module.target.name + ".alpha' is not this network's alpha " + pythonFloat(module.alpha));
    }
    module.down.copy_(down);
    module.up.copy_(up);
  }
  std::vector<std::string> unused;
  for (const auto& [name, tensor] : by_name) {
    if (!used.count(name)) unused.push_back(name);
  }
  if (!unused.empty()) {
    std::string list;
    for (size_t i = 0; i < unused.size() && i < 5; ++i) list += (i ? ", " : "") + unused[i];
    fail(ErrorCode::UnexpectedKey, "LoRA state: " + std::to_string(unused.size()) + " keys this network does not have: " + list);
  }
}

std::map<std::string, std::string> LoraNetwork::kohyaMetadata() const {
  std::map<std::string, std::string> metadata;
  const bool sdxl = config_.family == ModelFamily::SDXL;
  const bool v2 = config_.family == ModelFamily::SD2;
  const bool v_prediction = config_.prediction == Prediction::V;
  metadata["ss_network_module"] = "networks.lora";
  metadata["ss_network_dim"] = std::to_string(options_.rank);
  metadata["ss_network_alpha"] = pythonFloat(options_.alpha == 0 ? options_.rank : options_.alpha);
  if (options_.conv_rank > 0) {
    metadata["ss_network_args"] = nlohmann::json({{"conv_dim", std::to_string(options_.conv_rank)},
                                                  {"conv_alpha", pythonFloat(options_.conv_alpha)}}).dump();
  }
  metadata["ss_v2"] = v2 ? "True" : "False";
  metadata["ss_base_model_version"] = sdxl ? "sdxl_base_v1-0" : (v2 ? "sd_v2" : "sd_v1");
  // Stability AI's model spec, which kohya also writes.
  metadata["modelspec.sai_model_spec"] = "1.0.0";
  metadata["modelspec.architecture"] = sdxl ? "stable-diffusion-xl-v1-base/lora"
                                            : (v2 ? (v_prediction ? "stable-diffusion-v2-768-v/lora" : "stable-diffusion-v2-512/lora")
                                                  : "stable-diffusion-v1/lora");
  metadata["modelspec.implementation"] = sdxl ? "https://github.com/Stability-AI/generative-models" : "diffusers";
  metadata["modelspec.prediction_type"] = v_prediction ? "v" : "epsilon";
  return metadata;
}

void LoraNetwork::save(const std::string& path, const std::map<std::string, std::string>& metadata,
                       c10::ScalarType dtype) const {
  if (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16) {
    fail(ErrorCode::InvalidArgument, "LoRA save: the dtype must be fp32, fp16 or bf16");
  }
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : stateDict()) tensors.emplace_back(name, tensor.detach().to(at::kCPU).to(dtype).contiguous());
  std::map<std::string, std::string> all = kohyaMetadata();
  for (const auto& [key, value] : metadata) all[key] = value;
  if (!all.count("modelspec.title")) {
    all["modelspec.title"] = all.count("ss_output_name") ? all["ss_output_name"] : std::filesystem::path(path).stem().string();
  }
  io::writeSafetensors(path, tensors, all);
}

}  // namespace gesso::lora
