// Parsers for HuggingFace CLIPTextConfig and open_clip model configs; see text_config.h.
#include "gesso/models/text_config.h"

#include "gesso/error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace gesso::models {
namespace {

using nlohmann::json;

json parse(const std::string& text, const char* what) {
  try {
    json value = json::parse(text);
    if (!value.is_object()) fail(ErrorCode::ConfigError, std::string(what) + ": expected a JSON object");
    return value;
  } catch (const json::exception& error) {
    fail(ErrorCode::ConfigError, std::string(what) + " is not valid JSON: " + error.what());
  }
}

template <class T>
T field(const json& object, const std::string& name, const std::string& where) {
  if (!object.contains(name)) fail(ErrorCode::ConfigError, where + ": missing field '" + name + "'");
  const json& value = object.at(name);
  if constexpr (std::is_integral_v<T>) {
    if (!value.is_number_integer()) fail(ErrorCode::ConfigError, where + ": field '" + name + "' must be an integer");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) fail(ErrorCode::ConfigError, where + ": field '" + name + "' must be a number");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) fail(ErrorCode::ConfigError, where + ": field '" + name + "' must be true or false");
  } else {
    if (!value.is_string()) fail(ErrorCode::ConfigError, where + ": field '" + name + "' must be a string");
  }
  return value.get<T>();
}

template <class T>
T fieldOr(const json& object, const std::string& name, const std::string& where, T fallback) {
  if (!object.contains(name) || object.at(name).is_null()) return fallback;
  return field<T>(object, name, where);
}

int headsFor(int width) { return std::max(1, width / 64); }

}  // namespace

TextEncoderConfig textConfigFromHfJson(const std::string& json_text) {
  const char* where = "HF CLIPTextConfig";
  const json config = parse(json_text, where);
  TextEncoderConfig out;
  out.layout = TextEncoderLayout::HuggingFaceClip;
  out.width = field<int>(config, "hidden_size", where);
  out.layers = field<int>(config, "num_hidden_layers", where);
  out.mlp_width = field<int>(config, "intermediate_size", where);
  out.heads = fieldOr<int>(config, "num_attention_heads", where, headsFor(out.width));
  out.max_positions = fieldOr<int>(config, "max_position_embeddings", where, 77);
  out.vocab_size = fieldOr<int>(config, "vocab_size", where, 49408);
  out.layer_norm_eps = fieldOr<double>(config, "layer_norm_eps", where, 1e-5);
  const std::string activation = fieldOr<std::string>(config, "hidden_act", where, "quick_gelu");
  if (activation == "quick_gelu") {
    out.activation = TextActivation::QuickGelu;
  } else if (activation == "gelu") {
    out.activation = TextActivation::Gelu;
  } else {
    fail(ErrorCode::ConfigError, std::string(where) + ": hidden_act '" + activation + "' is not supported (quick_gelu, gelu)");
  }
  bool with_projection = false;
  if (config.contains("architectures") && config.at("architectures").is_array()) {
    for (const auto& name : config.at("architectures")) {
      with_projection = with_projection || (name.is_string() && name.get<std::string>() == "CLIPTextModelWithProjection");
    }
  }
  out.projection_dim = with_projection ? field<int>(config, "projection_dim", where) : 0;
  out.pad_token = out.vocab_size - 1;  // end-of-text, the last id (49407 in OpenAI's vocabulary)
  return out;
}

TextEncoderConfig textConfigFromOpenClipJson(const std::string& json_text) {
  const char* where = "open_clip config";
  const json config = parse(json_text, where);
  if (!config.contains("text_cfg") || !config.at("text_cfg").is_object()) {
    fail(ErrorCode::ConfigError, std::string(where) + ": missing field 'text_cfg'");
  }
  const json& text = config.at("text_cfg");
  const std::string text_where = std::string(where) + " text_cfg";
  for (const char* unsupported : {"hf_model_name", "embed_cls", "attentional_pool", "ls_init_value", "no_causal_mask", "proj_bias"}) {
    if (text.contains(unsupported) && !text.at(unsupported).is_null() && text.at(unsupported) != false) {
      fail(ErrorCode::ConfigError, text_where + ": '" + unsupported + "' is not supported by the CLIP text encoder");
    }
  }
  if (const std::string pool = fieldOr<std::string>(text, "pool_type", text_where, "argmax"); pool != "argmax") {
    fail(ErrorCode::ConfigError, text_where + ": pool_type '" + pool + "' is not supported (argmax)");
  }
  TextEncoderConfig out;
  out.layout = TextEncoderLayout::OpenClip;
  out.projection_dim = field<int>(config, "embed_dim", where);
  out.width = field<int>(text, "width", text_where);
  out.layers = field<int>(text, "layers", text_where);
  out.heads = fieldOr<int>(text, "heads", text_where, headsFor(out.width));  // every released CLIP: width / 64
  out.max_positions = fieldOr<int>(text, "context_length", text_where, 77);
  out.vocab_size = fieldOr<int>(text, "vocab_size", text_where, 49408);
  const double mlp_ratio = fieldOr<double>(text, "mlp_ratio", text_where, 4.0);
  out.mlp_width = static_cast<int>(std::lround(out.width * mlp_ratio));
  out.activation = fieldOr<bool>(config, "quick_gelu", where, false) ? TextActivation::QuickGelu : TextActivation::Gelu;
  out.layer_norm_eps = 1e-5;
  out.pad_token = 0;
  return out;
}

}  // namespace gesso::models
