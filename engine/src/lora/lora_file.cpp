// Reading LoRA files and merging them into weights; see lora_file.h.
#include "gesso/lora/lora_file.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/util/sha256.h"
#include "gesso/util/shape_text.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace gesso::lora {

namespace fs = std::filesystem;

namespace {

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

enum class Part { Down, Up, Alpha };

// The file key forms: suffix -> part. Longest first, so ".lora.down.weight" wins over ".down.weight".
const std::vector<std::pair<std::string, Part>>& keySuffixes() {
  static const std::vector<std::pair<std::string, Part>> suffixes = {
      {".lora_linear_layer.down.weight", Part::Down},  // diffusers (LoRACompatibleLinear, text encoders)
      {".lora_linear_layer.up.weight", Part::Up},
      {".lora_down.weight", Part::Down},  // kohya
      {".lora_up.weight", Part::Up},
      {".lora.down.weight", Part::Down},  // diffusers
      {".lora.up.weight", Part::Up},
      {".lora_A.weight", Part::Down},     // PEFT
      {".lora_B.weight", Part::Up},
      {".alpha", Part::Alpha},
  };
  return suffixes;
}

// diffusers' older attention-processor names: …attn1.processor.to_q_lora.down.weight, text encoders
// …self_attn.to_q_lora.down.weight. Returns the module name or empty.
std::string processorModule(const std::string& key, Part& part) {
  static const std::vector<std::pair<std::string, std::string>> renames = {
      {".processor.to_q_lora", ".to_q"},     {".processor.to_k_lora", ".to_k"},
      {".processor.to_v_lora", ".to_v"},     {".processor.to_out_lora", ".to_out.0"},
      {".self_attn.to_q_lora", ".self_attn.q_proj"}, {".self_attn.to_k_lora", ".self_attn.k_proj"},
      {".self_attn.to_v_lora", ".self_attn.v_proj"}, {".self_attn.to_out_lora", ".self_attn.out_proj"},
  };
  const std::pair<std::string, Part> endings[] = {{".down.weight", Part::Down}, {".up.weight", Part::Up}};
  for (const auto& [suffix, which] : endings) {
    if (!endsWith(key, suffix)) continue;
    const std::string module = key.substr(0, key.size() - suffix.size());
    for (const auto& [from, to] : renames) {
      if (endsWith(module, from)) {
        part = which;
        return module.substr(0, module.size() - from.size()) + to;
      }
    }
  }
  return {};
}

// LyCORIS and DoRA tensors: a different algebra than up @ down.
bool isLycorisKey(const std::string& key) {
  for (const char* marker : {".hada_", ".lokr_", ".lora_mid.", ".dora_scale", ".oft_", ".w_norm", ".b_norm", ".on_input"}) {
    if (key.find(marker) != std::string::npos) return true;
  }
  return endsWith(key, ".diff") || endsWith(key, ".diff_b");
}

std::string someNames(const std::vector<std::string>& names, size_t limit = 5) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < limit; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > limit) list += ", ... (" + std::to_string(names.size()) + " in all)";
  return list;
}

std::string shapeOf(const at::Tensor& tensor) { return gesso::shapeText(tensor); }

}  // namespace

LoraFile readLoraFile(const std::string& path) {
  const auto file = io::SafetensorsFile::open(path);
  LoraFile result;
  result.path = path;
  result.metadata = file->metadata();
  std::map<std::string, LoraPair> pairs;
  std::vector<std::string> unknown, lycoris;
  for (const io::TensorInfo& info : file->tensors()) {
    const std::string& key = info.name;
    if (isLycorisKey(key)) {
      lycoris.push_back(key);
      continue;
    }
    Part part = Part::Down;
    std::string module;
    for (const auto& [suffix, which] : keySuffixes()) {
      if (endsWith(key, suffix)) {
        module = key.substr(0, key.size() - suffix.size());
        part = which;
        break;
      }
    }
    if (module.empty()) module = processorModule(key, part);
    if (module.empty()) {
      unknown.push_back(key);
      continue;
    }
    LoraPair& pair = pairs[module];
    pair.module = module;
    const at::Tensor tensor = file->tensor(key);
    if (part == Part::Down) {
      pair.down = tensor, pair.down_key = key;
    } else if (part == Part::Up) {
      pair.up = tensor, pair.up_key = key;
    } else {
      if (tensor.numel() != 1) fail(ErrorCode::InvalidFormat, path + ": '" + key + "' should be a scalar, it is " + shapeOf(tensor));
      pair.alpha = tensor.to(at::kDouble).item<double>();
    }
  }
  if (!lycoris.empty()) {
    fail(ErrorCode::InvalidFormat, path + ": LyCORIS/DoRA tensors (LoHa, LoKr, Tucker, DoRA, full diff) are not supported, only plain "
                                          "LoRA (up @ down): " + someNames(lycoris));
  }
  if (!unknown.empty()) {
    fail(ErrorCode::UnexpectedKey, path + ": keys of no known LoRA form (expected NAME.lora_down.weight / .lora_up.weight / "
                                          ".alpha, or diffusers/PEFT .lora_A.weight / .lora_B.weight / .lora.down.weight): " +
                                          someNames(unknown));
  }
  if (pairs.empty()) fail(ErrorCode::InvalidFormat, path + ": no LoRA tensors in this file");
  for (auto& [module, pair] : pairs) {
    if (!pair.down.defined() || !pair.up.defined()) {
      fail(ErrorCode::InvalidFormat, path + ": module '" + module + "' has " + (pair.down.defined() ? "a down but no up" : "an up but no down") +
                                         " weight");
    }
    const bool down_ok = pair.down.dim() == 2 || pair.down.dim() == 4;
    const bool up_ok = pair.up.dim() == 2 || (pair.up.dim() == 4 && pair.up.size(2) == 1 && pair.up.size(3) == 1);
    if (!down_ok || !up_ok || pair.up.size(1) != pair.down.size(0)) {
      fail(ErrorCode::ShapeMismatch, path + ": '" + pair.down_key + "' " + shapeOf(pair.down) + " and '" + pair.up_key + "' " +
                                         shapeOf(pair.up) + " are not a low-rank pair (down [r, in(, k, k)], up [out, r(, 1, 1)])");
    }
    if (pair.alpha && !std::isfinite(*pair.alpha)) fail(ErrorCode::InvalidFormat, path + ": the alpha of '" + module + "' is not finite");
    result.pairs.push_back(std::move(pair));
  }
  return result;
}

std::string loraFileHash(const std::string& path) {
  const auto file = io::SafetensorsFile::open(path);
  if (const auto it = file->metadata().find("sshs_model_hash"); it != file->metadata().end() && !it->second.empty()) return it->second;
  return util::sha256FileHex(path, 8 + file->headerSize());
}

std::vector<MatchedPair> matchTargets(const LoraFile& file, const std::vector<LoraTarget>& targets) {
  std::map<std::string, const LoraTarget*> by_name;
  for (const LoraTarget& target : targets) {
    by_name.emplace(target.name, &target);
    for (const std::string& alias : target.aliases) by_name.emplace(alias, &target);
  }
  std::vector<MatchedPair> matched;
  std::vector<std::string> unknown;
  for (const LoraPair& pair : file.pairs) {
    const auto it = by_name.find(pair.module);
    if (it == by_name.end()) {
      unknown.push_back(pair.module);
      continue;
    }
    const LoraTarget& target = *it->second;
    const int64_t per_row = target.weight.numel() / target.weight.size(0);  // in · k · k
    const bool kernel_ok = pair.down.dim() == 2 ? (!target.conv || target.kernel_size == 1)
                                                : (target.conv ? pair.down.size(2) == target.kernel_size && pair.down.size(3) == target.kernel_size
                                                               : pair.down.size(2) == 1 && pair.down.size(3) == 1);
    if (pair.up.size(0) != target.rows || pair.down.numel() / pair.down.size(0) != per_row || !kernel_ok) {
      std::vector<int64_t> rows_shape = target.weight.sizes().vec();
      rows_shape[0] = target.rows;
      fail(ErrorCode::ShapeMismatch, file.path + ": '" + pair.down_key + "' " + shapeOf(pair.down) + " with '" + pair.up_key + "' " +
                                         shapeOf(pair.up) + " does not fit " + target.module_path + " " + gesso::shapeText(rows_shape) +
                                         " (a LoRA for another model?)");
    }
    matched.push_back({&pair, &target});
  }
  if (!unknown.empty()) {
    fail(ErrorCode::UnexpectedKey, file.path + ": " + std::to_string(unknown.size()) + " of " + std::to_string(file.pairs.size()) +
                                       " LoRA modules match no layer of this model (a LoRA for another model family?): " +
                                       someNames(unknown));
  }
  return matched;
}

at::Tensor loraDelta(const LoraPair& pair, const LoraTarget& target, double strength, std::optional<int> dyn_dim) {
  const auto options = at::TensorOptions().dtype(at::kFloat).device(target.weight.device());
  at::Tensor up = pair.up.to(options).flatten(1);      // [rows, r]
  at::Tensor down = pair.down.to(options).flatten(1);  // [r, in·k·k]
  if (dyn_dim && *dyn_dim > 0 && *dyn_dim < pair.rank()) {
    up = up.slice(1, 0, *dyn_dim);
    down = down.slice(0, 0, *dyn_dim);
  }
  std::vector<int64_t> shape = target.weight.sizes().vec();
  shape[0] = target.rows;
  return at::matmul(up, down).mul_(strength * pair.scale()).reshape(shape);
}

bool LoraApplication::operator==(const LoraApplication& other) const {
  return path == other.path && name == other.name && unet_strength == other.unet_strength &&
         text_encoder_strength == other.text_encoder_strength && dyn_dim == other.dyn_dim;
}

namespace {

template <class Stamp>
Stamp stampOf(const std::string& path) {
  std::error_code error;
  Stamp stamp;
  stamp.path = path;
  stamp.size = static_cast<int64_t>(fs::file_size(path, error));
  if (error) fail(ErrorCode::FileNotFound, "LoRA file '" + path + "' cannot be read: " + error.message());
  stamp.modified = static_cast<int64_t>(fs::last_write_time(path, error).time_since_epoch().count());
  return stamp;
}

}  // namespace

bool LoraMerger::apply(models::UNet& unet, std::vector<models::TextEncoder>& text_encoders, const ModelConfig& config,
                       const std::vector<LoraApplication>& set) {
  std::vector<FileStamp> stamps;
  for (const LoraApplication& lora : set) stamps.push_back(stampOf<FileStamp>(lora.path));
  if (set == current_ && stamps == stamps_) return false;
  const bool had_weights = !originals_.empty();
  restore();
  if (set.empty()) return had_weights;
  try {
    torch::NoGradGuard no_grad;
    const std::vector<LoraTarget> targets = modelTargets(unet, text_encoders, config);
    std::vector<std::pair<at::Tensor, at::Tensor>> sums;  // weight, float32 delta of the whole weight
    std::map<const c10::TensorImpl*, size_t> index;
    for (const LoraApplication& lora : set) {
      const LoraFile file = readLoraFile(lora.path);
      for (const MatchedPair& match : matchTargets(file, targets)) {
        const LoraTarget& target = *match.target;
        const double strength = target.component == ComponentKind::UNet ? lora.unet_strength : lora.text_encoder_strength;
        if (strength == 0.0) continue;  // adds nothing: the base weight stays bit for bit
        const at::Tensor delta = loraDelta(*match.pair, target, strength, lora.dyn_dim);
        auto [it, inserted] = index.emplace(target.weight.unsafeGetTensorImpl(), sums.size());
        if (inserted) sums.emplace_back(target.weight, at::zeros(target.weight.sizes(), delta.options()));
        sums[it->second].second.narrow(0, target.row_offset, target.rows).add_(delta);
      }
    }
    for (auto& [weight, sum] : sums) {
      originals_.emplace_back(weight, weight.detach().clone());
      weight.detach().copy_((weight.detach().to(at::kFloat) + sum).to(weight.scalar_type()));
    }
  } catch (...) {
    restore();
    throw;
  }
  current_ = set;
  stamps_ = std::move(stamps);
  return true;
}

void LoraMerger::restore() {
  torch::NoGradGuard no_grad;
  for (auto& [weight, original] : originals_) weight.detach().copy_(original);
  originals_.clear();
  current_.clear();
  stamps_.clear();
}

std::string LoraMerger::hashesText() {
  std::string text;
  for (const LoraApplication& lora : current_) {
    const FileStamp stamp = stampOf<FileStamp>(lora.path);
    auto it = hashes_.find(lora.path);
    if (it == hashes_.end() || !(it->second.first == stamp)) {
      it = hashes_.insert_or_assign(lora.path, std::make_pair(stamp, loraFileHash(lora.path))).first;
    }
    std::string alias = lora.name;
    alias.erase(std::remove_if(alias.begin(), alias.end(), [](char c) { return c == ':' || c == ','; }), alias.end());
    if (alias.empty() || it->second.second.empty()) continue;
    text += (text.empty() ? "" : ", ") + alias + ": " + it->second.second.substr(0, 12);
  }
  return text;
}

}  // namespace gesso::lora
