// GenerateRequest <-> JSON (nlohmann) and its validation.
#include "gesso/pipeline/generate_request.h"

#include "gesso/diffusion/sampler.h"
#include "gesso/diffusion/schedulers.h"
#include "gesso/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <functional>
#include <map>

namespace gesso::pipeline {

namespace {

using nlohmann::json;

// One table of fields drives writing, reading and comparing.
template <class Visitor>
void visitFields(Visitor&& v) {
  v("model", &GenerateRequest::model);
  v("config", &GenerateRequest::config);
  v("vae", &GenerateRequest::vae);
  v("tokenizer", &GenerateRequest::tokenizer);
  v("prompt", &GenerateRequest::prompt);
  v("negative_prompt", &GenerateRequest::negative_prompt);
  v("sampler", &GenerateRequest::sampler);
  v("scheduler", &GenerateRequest::scheduler);
  v("steps", &GenerateRequest::steps);
  v("cfg_scale", &GenerateRequest::cfg_scale);
  v("cfg_rescale", &GenerateRequest::cfg_rescale);
  v("seed", &GenerateRequest::seed);
  v("width", &GenerateRequest::width);
  v("height", &GenerateRequest::height);
  v("batch_size", &GenerateRequest::batch_size);
  v("batch_count", &GenerateRequest::batch_count);
  v("eta", &GenerateRequest::eta);
  v("s_noise", &GenerateRequest::s_noise);
  v("clip_skip", &GenerateRequest::clip_skip);
  v("zero_terminal_snr", &GenerateRequest::zero_terminal_snr);
  v("init_image", &GenerateRequest::init_image);
  v("strength", &GenerateRequest::strength);
  v("mask", &GenerateRequest::mask);
  v("hires_scale", &GenerateRequest::hires_scale);
  v("hires_strength", &GenerateRequest::hires_strength);
  v("hires_steps", &GenerateRequest::hires_steps);
  v("preview_every", &GenerateRequest::preview_every);
  v("loras", &GenerateRequest::loras);
  v("lora_dir", &GenerateRequest::lora_dir);
  v("device", &GenerateRequest::device);
  v("precision", &GenerateRequest::precision);
  v("original_width", &GenerateRequest::original_width);
  v("original_height", &GenerateRequest::original_height);
  v("crop_left", &GenerateRequest::crop_left);
  v("crop_top", &GenerateRequest::crop_top);
  v("target_width", &GenerateRequest::target_width);
  v("target_height", &GenerateRequest::target_height);
}

template <class T>
void readValue(const json& value, const std::string& key, T& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) fail(ErrorCode::InvalidArgument, "request field '" + key + "' must be a string");
    out = value.get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) fail(ErrorCode::InvalidArgument, "request field '" + key + "' must be true or false");
    out = value.get<bool>();
  } else if constexpr (std::is_same_v<T, double>) {
    if (!value.is_number()) fail(ErrorCode::InvalidArgument, "request field '" + key + "' must be a number");
    out = value.get<double>();
  } else if constexpr (std::is_same_v<T, std::vector<LoraRef>>) {
    if (!value.is_array()) fail(ErrorCode::InvalidArgument, "request field '" + key + "' must be an array of {path, strength}");
    out.clear();
    for (const json& item : value) {
      if (!item.is_object()) fail(ErrorCode::InvalidArgument, "request field '" + key + "' must hold objects {path, strength}");
      LoraRef lora;
      for (const auto& field : item.items()) {
        if (field.key() == "path") {
          readValue(field.value(), key + ".path", lora.path);
        } else if (field.key() == "strength") {
          readValue(field.value(), key + ".strength", lora.strength);
        } else {
          fail(ErrorCode::InvalidArgument, "request field '" + key + "' has an unknown field '" + field.key() + "'");
        }
      }
      out.push_back(lora);
    }
  } else if constexpr (std::is_same_v<T, std::optional<double>>) {
    if (value.is_null()) {
      out.reset();
    } else {
      if (!value.is_number()) fail(ErrorCode::InvalidArgument, "request field '" + key + "' must be a number or null");
      out = value.get<double>();
    }
  } else {
    if (!value.is_number_integer()) fail(ErrorCode::InvalidArgument, "request field '" + key + "' must be an integer");
    // An unsigned value past int64 would wrap (18446744073709551615 became seed -1, "random").
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(ErrorCode::InvalidArgument, "request field '" + key + "' is out of range: " + std::to_string(value.get<uint64_t>()));
    }
    const int64_t v = value.get<int64_t>();
    if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) || v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
      fail(ErrorCode::InvalidArgument, "request field '" + key + "' is out of range: " + std::to_string(v));
    }
    out = static_cast<T>(v);
  }
}

}  // namespace

bool GenerateRequest::operator==(const GenerateRequest& other) const {
  bool equal = true;
  visitFields([&](const char*, auto member) { equal = equal && (this->*member == other.*member); });
  return equal;
}

std::string requestToJson(const GenerateRequest& request, int indent) {
  json out = json::object();
  visitFields([&](const char* key, auto member) {
    const auto& value = request.*member;
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::optional<double>>) {
      out[key] = value ? json(*value) : json(nullptr);
    } else if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::vector<LoraRef>>) {
      json list = json::array();
      for (const LoraRef& lora : value) list.push_back({{"path", lora.path}, {"strength", lora.strength}});
      out[key] = list;
    } else {
      out[key] = value;
    }
  });
  return out.dump(indent);
}

GenerateRequest requestFromJson(const std::string& json_text) {
  json parsed;
  try {
    parsed = json::parse(json_text);
  } catch (const json::exception& error) {
    fail(ErrorCode::InvalidArgument, std::string("the request is not valid JSON: ") + error.what());
  }
  if (!parsed.is_object()) fail(ErrorCode::InvalidArgument, "the request JSON must be an object");
  GenerateRequest request;
  std::map<std::string, bool> known;
  visitFields([&](const char* key, auto member) {
    known[key] = true;
    const auto it = parsed.find(key);
    if (it != parsed.end()) readValue(*it, key, request.*member);
  });
  for (const auto& item : parsed.items()) {
    if (!known.count(item.key())) fail(ErrorCode::InvalidArgument, "the request has an unknown field '" + item.key() + "'");
  }
  return request;
}

void validateRequest(const GenerateRequest& r) {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) fail(ErrorCode::InvalidArgument, message);
  };
  require(!r.model.empty(), "request: 'model' is required");
  require(r.steps >= 1 && r.steps <= 10000, "request: 'steps' must be in 1..10000, got " + std::to_string(r.steps));
  require(r.width >= 8 && r.height >= 8 && r.width % 8 == 0 && r.height % 8 == 0,
          "request: 'width' and 'height' must be positive multiples of 8, got " + std::to_string(r.width) + "x" +
              std::to_string(r.height));
  require(r.batch_size >= 1 && r.batch_size <= 64, "request: 'batch_size' must be in 1..64");
  require(r.batch_count >= 1 && r.batch_count <= 10000, "request: 'batch_count' must be in 1..10000");
  require(r.seed >= -1, "request: 'seed' must be >= 0 (or -1 for a random seed)");
  require(std::isfinite(r.cfg_scale), "request: 'cfg_scale' must be finite");
  require(r.cfg_rescale >= 0 && r.cfg_rescale <= 1, "request: 'cfg_rescale' must be in [0, 1]");
  require(r.strength >= 0 && r.strength <= 1, "request: 'strength' must be in [0, 1]");
  require(r.hires_strength >= 0 && r.hires_strength <= 1, "request: 'hires_strength' must be in [0, 1]");
  require(r.hires_scale >= 1 && r.hires_scale <= 8, "request: 'hires_scale' must be in [1, 8]");
  require(r.hires_steps >= 0, "request: 'hires_steps' must be >= 0");
  require(r.preview_every >= 0, "request: 'preview_every' must be >= 0");
  require(r.clip_skip >= 0, "request: 'clip_skip' must be >= 0");
  require(!r.eta || (*r.eta >= 0 && std::isfinite(*r.eta)), "request: 'eta' must be >= 0");
  require(r.s_noise >= 0, "request: 's_noise' must be >= 0");
  require(r.mask.empty() || !r.init_image.empty(), "request: 'mask' needs 'init_image'");
  for (const LoraRef& lora : r.loras) {
    require(!lora.path.empty(), "request: a LoRA in 'loras' has an empty path");
    require(std::isfinite(lora.strength), "request: the strength of LoRA '" + lora.path + "' must be finite");
  }
  require(r.precision == "fp32" || r.precision == "bf16" || r.precision == "fp16",
          "request: 'precision' must be fp32, bf16 or fp16, not '" + r.precision + "'");
  diffusion::findSampler(r.sampler);  // InvalidArgument listing the known names
  const auto schedulers = diffusion::schedulerNames();
  if (std::find(schedulers.begin(), schedulers.end(), r.scheduler) == schedulers.end()) {
    std::string names;
    for (const auto& name : schedulers) names += (names.empty() ? "" : ", ") + name;
    fail(ErrorCode::InvalidArgument, "request: unknown scheduler '" + r.scheduler + "'; known: " + names);
  }
}

}  // namespace gesso::pipeline
