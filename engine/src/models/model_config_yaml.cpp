// LDM/sgm inference YAMLs (configs/stable-diffusion/*.yaml, configs/inference/*.yaml) to configs, with yaml-cpp.
// Compiled only with GESSO_WITH_YAML; what the YAML does not say is left to detection or a preset.
#include "gesso/models/model_config_files.h"

#include "gesso/error.h"
#include "gesso/models/text_config.h"

#include <nlohmann/json.hpp>

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace gesso {

namespace {

class YamlReader {
 public:
  explicit YamlReader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void error(const std::string& field, const std::string& what) const {
    fail(ErrorCode::ConfigError, source_ + ": field \"" + field + "\": " + what);
  }

  int integer(const YAML::Node& node, const std::string& field) const {
    if (!node.IsScalar()) error(field, "expected an integer");
    try {
      return node.as<int>();
    } catch (const YAML::Exception&) {
      error(field, "expected an integer, found \"" + node.Scalar() + "\"");
    }
  }

  double number(const YAML::Node& node, const std::string& field) const {
    if (!node.IsScalar()) error(field, "expected a number");
    try {
      return node.as<double>();
    } catch (const YAML::Exception&) {
      error(field, "expected a number, found \"" + node.Scalar() + "\"");
    }
  }

  bool boolean(const YAML::Node& node, const std::string& field) const {
    if (!node.IsScalar()) error(field, "expected true or false");
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
      error(field, "expected true or false, found \"" + node.Scalar() + "\"");
    }
  }

  std::string text(const YAML::Node& node, const std::string& field) const {
    if (!node.IsScalar()) error(field, "expected a string");
    return node.Scalar();
  }

  std::vector<int> integers(const YAML::Node& node, const std::string& field) const {
    if (!node.IsSequence()) error(field, "expected a list of integers");
    std::vector<int> values;
    for (size_t i = 0; i < node.size(); ++i) values.push_back(integer(node[i], field + "[" + std::to_string(i) + "]"));
    return values;
  }

  // An int repeated per level, or a list with one value per level.
  std::vector<int> perLevel(const YAML::Node& node, const std::string& field, size_t levels) const {
    if (node.IsScalar()) return std::vector<int>(levels, integer(node, field));
    std::vector<int> values = integers(node, field);
    if (values.size() != levels) {
      error(field, "has " + std::to_string(values.size()) + " entries, expected one per level (" +
                       std::to_string(levels) + ", the length of channel_mult)");
    }
    return values;
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

bool isNull(const YAML::Node& node) { return !node || node.IsNull(); }

// sgm.modules.diffusionmodules.openaimodel.UNetModel's constructor params; `path` is where they sit in the file.
UNetConfig parseUNetParams(const YAML::Node& params, const std::string& path, const YamlReader& reader) {
  if (!params || !params.IsMap()) reader.error(path, "expected a map of UNet parameters");
  auto field = [&](const char* name) { return path + "." + name; };
  UNetConfig unet;
  for (const char* required : {"model_channels", "channel_mult", "num_res_blocks", "attention_resolutions"}) {
    if (isNull(params[required])) reader.error(field(required), "is missing");
  }
  if (params["in_channels"]) unet.in_channels = reader.integer(params["in_channels"], field("in_channels"));
  if (params["out_channels"]) unet.out_channels = reader.integer(params["out_channels"], field("out_channels"));
  unet.model_channels = reader.integer(params["model_channels"], field("model_channels"));
  unet.channel_mult = reader.integers(params["channel_mult"], field("channel_mult"));
  if (unet.channel_mult.empty()) reader.error(field("channel_mult"), "is empty");
  const size_t levels = unet.channel_mult.size();
  unet.num_res_blocks = reader.perLevel(params["num_res_blocks"], field("num_res_blocks"), levels);
  unet.attention_resolutions = reader.integers(params["attention_resolutions"], field("attention_resolutions"));
  unet.transformer_depth = params["transformer_depth"]
                               ? reader.perLevel(params["transformer_depth"], field("transformer_depth"), levels)
                               : std::vector<int>(levels, 1);
  if (!isNull(params["transformer_depth_middle"])) {
    unet.transformer_depth_middle = reader.integer(params["transformer_depth_middle"], field("transformer_depth_middle"));
  }
  const bool has_heads = !isNull(params["num_heads"]) && reader.integer(params["num_heads"], field("num_heads")) != -1;
  const bool has_head_channels = !isNull(params["num_head_channels"]) &&
                                 reader.integer(params["num_head_channels"], field("num_head_channels")) != -1;
  if (has_head_channels) {
    unet.num_head_channels = reader.integer(params["num_head_channels"], field("num_head_channels"));
  } else if (has_heads) {
    unet.num_heads = reader.integer(params["num_heads"], field("num_heads"));
    unet.num_head_channels = -1;
  } else {
    reader.error(path, "sets neither num_heads nor num_head_channels");
  }
  if (isNull(params["context_dim"])) reader.error(field("context_dim"), "is missing (a UNet without cross-attention is not supported)");
  const YAML::Node context = params["context_dim"];
  if (context.IsSequence()) {  // sgm accepts one per level; Stable Diffusion uses one value throughout
    const std::vector<int> contexts = reader.integers(context, field("context_dim"));
    for (int value : contexts) {
      if (value != contexts.front()) reader.error(field("context_dim"), "differs between levels (not supported)");
    }
    if (contexts.empty()) reader.error(field("context_dim"), "is empty");
    unet.context_dim = contexts.front();
  } else {
    unet.context_dim = reader.integer(context, field("context_dim"));
  }
  unet.use_linear_in_transformer =
      params["use_linear_in_transformer"] && reader.boolean(params["use_linear_in_transformer"], field("use_linear_in_transformer"));
  if (!isNull(params["adm_in_channels"])) unet.adm_in_channels = reader.integer(params["adm_in_channels"], field("adm_in_channels"));
  if (!isNull(params["num_classes"])) {
    const std::string classes = reader.text(params["num_classes"], field("num_classes"));
    if (classes != "sequential") reader.error(field("num_classes"), "\"" + classes + "\" is not supported (only \"sequential\")");
    if (unet.adm_in_channels <= 0) reader.error(field("adm_in_channels"), "is required with num_classes: sequential");
  } else if (unet.adm_in_channels > 0) {
    reader.error(field("num_classes"), "must be \"sequential\" when adm_in_channels is set");
  }
  // Options that would build a different network than the one Gesso implements.
  if (params["use_spatial_transformer"] && !reader.boolean(params["use_spatial_transformer"], field("use_spatial_transformer"))) {
    reader.error(field("use_spatial_transformer"), "false is not supported");
  }
  if (params["use_scale_shift_norm"] && reader.boolean(params["use_scale_shift_norm"], field("use_scale_shift_norm"))) {
    reader.error(field("use_scale_shift_norm"), "true is not supported");
  }
  if (params["resblock_updown"] && reader.boolean(params["resblock_updown"], field("resblock_updown"))) {
    reader.error(field("resblock_updown"), "true is not supported");
  }
  if (params["dims"] && reader.integer(params["dims"], field("dims")) != 2) reader.error(field("dims"), "only 2 is supported");
  for (const char* unsupported : {"num_attention_blocks", "disable_self_attentions", "disable_middle_self_attn"}) {
    const YAML::Node node = params[unsupported];
    if (!isNull(node) && !(node.IsScalar() && node.Scalar() == "false")) reader.error(field(unsupported), "is not supported");
  }
  for (int value : unet.num_res_blocks) {
    if (value <= 0) reader.error(field("num_res_blocks"), "must be positive");
  }
  if (unet.model_channels <= 0) reader.error(field("model_channels"), "must be positive");
  // Gesso's extension (sgm fixes 32): diffusers' norm_num_groups, for small models whose widths 32 groups would
  // reduce to one channel each.
  if (!isNull(params["norm_num_groups"])) {
    unet.norm_groups = reader.integer(params["norm_num_groups"], field("norm_num_groups"));
    if (unet.norm_groups <= 0 || unet.model_channels % unet.norm_groups != 0) {
      reader.error(field("norm_num_groups"), "must be positive and divide model_channels");
    }
  }
  return unet;
}

// first_stage_config.params: {embed_dim, ddconfig: {...}}.
VaeConfig parseVaeParams(const YAML::Node& params, const std::string& path, const YamlReader& reader) {
  if (!params || !params.IsMap()) reader.error(path, "expected a map of autoencoder parameters");
  const YAML::Node dd = params["ddconfig"];
  if (!dd || !dd.IsMap()) reader.error(path + ".ddconfig", "is missing");
  auto field = [&](const char* name) { return path + ".ddconfig." + name; };
  VaeConfig vae;
  if (isNull(params["embed_dim"])) reader.error(path + ".embed_dim", "is missing");
  vae.embed_dim = reader.integer(params["embed_dim"], path + ".embed_dim");
  for (const char* required : {"z_channels", "ch", "ch_mult", "num_res_blocks"}) {
    if (isNull(dd[required])) reader.error(field(required), "is missing");
  }
  vae.z_channels = reader.integer(dd["z_channels"], field("z_channels"));
  vae.ch = reader.integer(dd["ch"], field("ch"));
  vae.ch_mult = reader.integers(dd["ch_mult"], field("ch_mult"));
  if (vae.ch_mult.empty()) reader.error(field("ch_mult"), "is empty");
  vae.num_res_blocks = reader.integer(dd["num_res_blocks"], field("num_res_blocks"));
  if (dd["resolution"]) vae.resolution = reader.integer(dd["resolution"], field("resolution"));
  if (dd["in_channels"]) vae.in_channels = reader.integer(dd["in_channels"], field("in_channels"));
  if (dd["out_ch"]) vae.out_ch = reader.integer(dd["out_ch"], field("out_ch"));
  if (dd["double_z"]) vae.double_z = reader.boolean(dd["double_z"], field("double_z"));
  vae.attn_resolutions = dd["attn_resolutions"] ? reader.integers(dd["attn_resolutions"], field("attn_resolutions")) : std::vector<int>{};
  if (!isNull(dd["norm_num_groups"])) {  // Gesso's extension, as in the UNet
    vae.norm_groups = reader.integer(dd["norm_num_groups"], field("norm_num_groups"));
    if (vae.norm_groups <= 0 || vae.ch % vae.norm_groups != 0) reader.error(field("norm_num_groups"), "must be positive and divide ch");
  }
  return vae;
}

// sgm denoiser_config: a V scaling class (VScaling, VScalingWithEDMcNoise) means v-prediction.
std::optional<Prediction> predictionFromDenoiser(const YAML::Node& denoiser, const YamlReader& reader) {
  if (!denoiser || !denoiser.IsMap()) return std::nullopt;
  const YAML::Node scaling = denoiser["params"]["scaling_config"]["target"];
  if (!scaling) return std::nullopt;
  const std::string target = reader.text(scaling, "model.params.denoiser_config.params.scaling_config.target");
  if (target.find("VScaling") != std::string::npos) return Prediction::V;
  if (target.find("EpsScaling") != std::string::npos) return Prediction::Epsilon;
  reader.error("model.params.denoiser_config.params.scaling_config.target",
               "\"" + target + "\" is not supported (EpsScaling or VScaling)");
}

// cond_stage_config.params.text_config: a HuggingFace CLIPTextConfig written in YAML (Gesso's extension for models
// with their own text encoder; the released LDM YAMLs name a pretrained one instead). Scalars only.
TextEncoderConfig parseTextConfig(const YAML::Node& node, const std::string& path, const YamlReader& reader) {
  if (!node.IsMap()) reader.error(path, "expected a map of CLIPTextConfig fields");
  nlohmann::json json = nlohmann::json::object();
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const YAML::Node value = entry.second;
    if (key == "architectures") {
      json[key] = nlohmann::json::array();
      for (const auto& name : value) json[key].push_back(name.Scalar());
      continue;
    }
    if (!value.IsScalar()) reader.error(path + "." + key, "expected a scalar");
    const std::string text = value.Scalar();
    if (key == "hidden_act") {
      json[key] = text;
    } else if (key == "layer_norm_eps") {
      json[key] = reader.number(value, path + "." + key);
    } else {
      json[key] = reader.integer(value, path + "." + key);
    }
  }
  try {
    return models::textConfigFromHfJson(json.dump());
  } catch (const GessoError& error) {
    reader.error(path, error.error().detail);
  }
}

ConfigOverrides parseYamlText(const std::string& text, const std::string& source_name) {
  YamlReader reader(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    fail(ErrorCode::ConfigError, source_name + ": not valid YAML: " + error.what());
  }
  if (!root.IsMap()) fail(ErrorCode::ConfigError, source_name + ": expected a YAML map at the top level");

  ConfigOverrides overrides;
  overrides.source = source_name;
  if (root["model_channels"]) {  // the UNet constructor params themselves
    overrides.unet = parseUNetParams(root, "(root)", reader);
    return overrides;
  }
  if (root["ddconfig"]) {  // the first-stage params themselves
    overrides.vae = parseVaeParams(root, "(root)", reader);
    return overrides;
  }
  const YAML::Node params = root["model"]["params"];
  if (!params || !params.IsMap()) {
    reader.error("model.params", "is missing (expected an LDM/sgm model config, or UNet or autoencoder params at the root)");
  }
  if (params["network_config"]) {
    overrides.unet = parseUNetParams(params["network_config"]["params"], "model.params.network_config.params", reader);
  } else if (params["unet_config"]) {
    overrides.unet = parseUNetParams(params["unet_config"]["params"], "model.params.unet_config.params", reader);
  }
  if (params["first_stage_config"]) {
    overrides.vae = parseVaeParams(params["first_stage_config"]["params"], "model.params.first_stage_config.params", reader);
  }
  if (params["cond_stage_config"] && params["cond_stage_config"]["params"] &&
      params["cond_stage_config"]["params"]["text_config"]) {
    overrides.text_encoders = std::vector<TextEncoderConfig>{parseTextConfig(
        params["cond_stage_config"]["params"]["text_config"], "model.params.cond_stage_config.params.text_config", reader)};
  }
  if (!isNull(params["scale_factor"])) {
    overrides.scale_factor = reader.number(params["scale_factor"], "model.params.scale_factor");
    if (overrides.vae) overrides.vae->scale_factor = *overrides.scale_factor;
  }
  if (!isNull(params["parameterization"])) {
    const std::string parameterization = reader.text(params["parameterization"], "model.params.parameterization");
    if (parameterization == "v") {
      overrides.prediction = Prediction::V;
    } else if (parameterization == "eps") {
      overrides.prediction = Prediction::Epsilon;
    } else {
      reader.error("model.params.parameterization", "\"" + parameterization + "\" is not supported (\"eps\" or \"v\")");
    }
  } else if (auto prediction = predictionFromDenoiser(params["denoiser_config"], reader)) {
    overrides.prediction = prediction;
  }
  if (!overrides.unet && !overrides.vae) {
    reader.error("model.params", "has neither network_config/unet_config nor first_stage_config");
  }
  return overrides;
}

}  // namespace

ConfigOverrides parseYamlConfig(const std::string& text, const std::string& source_name) {
  // yaml-cpp throws on some access patterns (a field of a missing map is an "invalid node"): whatever slips past
  // the checks above still becomes a ConfigError naming the file, never an uncaught exception.
  try {
    return parseYamlText(text, source_name);
  } catch (const YAML::Exception& error) {
    fail(ErrorCode::ConfigError, source_name + ": cannot read the YAML config: " + error.what());
  }
}

ConfigOverrides loadYamlConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::FileNotFound, "cannot open config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(ErrorCode::IoError, "cannot read config file " + path);
  return parseYamlConfig(text.str(), path);
}

}  // namespace gesso
