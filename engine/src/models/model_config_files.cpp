// diffusers config.json parsing (UNet2DConditionModel, AutoencoderKL) and the merging of file-given values over a
// detected config. The field meanings follow diffusers' documented config attributes.
#include "gesso/models/model_config_files.h"

#include "gesso/error.h"

#include <nlohmann/json.hpp>

namespace gesso {

void ConfigOverrides::applyTo(ModelConfig& config) const {
  if (unet) {
    config.unet = *unet;
    if (config.family == ModelFamily::Custom) config.family = familyFromUNet(*unet);
  }
  if (vae) {
    const double scale = config.vae.scale_factor;
    config.vae = *vae;
    if (!scale_factor) config.vae.scale_factor = scale;  // the VAE section alone does not carry the scale
  }
  if (scale_factor) config.vae.scale_factor = *scale_factor;
  if (prediction) config.prediction = *prediction;
  if (text_encoders) config.text_encoders = *text_encoders;
}

#ifdef GESSO_WITH_YAML
bool yamlSupported() { return true; }
#else
bool yamlSupported() { return false; }
ConfigOverrides parseYamlConfig(const std::string&, const std::string& source_name) {
  fail(ErrorCode::ConfigError, source_name + ": this build has no YAML support (configure with GESSO_WITH_YAML=ON)");
}
ConfigOverrides loadYamlConfig(const std::string& path) { return parseYamlConfig({}, path); }
#endif

namespace {

using Json = nlohmann::json;

class JsonReader {
 public:
  JsonReader(const std::string& text, std::string source) : source_(std::move(source)) {
    try {
      root_ = Json::parse(text);
    } catch (const Json::exception& error) {
      fail(ErrorCode::ConfigError, source_ + ": not valid JSON: " + error.what());
    }
    if (!root_.is_object()) fail(ErrorCode::ConfigError, source_ + ": expected a JSON object at the top level");
  }

  [[noreturn]] void error(const std::string& field, const std::string& what) const {
    fail(ErrorCode::ConfigError, source_ + ": field \"" + field + "\": " + what);
  }

  bool has(const std::string& field) const { return root_.contains(field) && !root_.at(field).is_null(); }
  const Json& at(const std::string& field) const {
    if (!has(field)) error(field, "is missing");
    return root_.at(field);
  }

  int integer(const Json& value, const std::string& field) const {
    if (!value.is_number_integer()) error(field, "expected an integer, found " + value.dump());
    return value.get<int>();
  }
  int integer(const std::string& field) const { return integer(at(field), field); }
  double number(const std::string& field) const {
    if (!at(field).is_number()) error(field, "expected a number, found " + at(field).dump());
    return at(field).get<double>();
  }
  bool boolean(const std::string& field) const {
    if (!at(field).is_boolean()) error(field, "expected true or false, found " + at(field).dump());
    return at(field).get<bool>();
  }
  std::vector<int> integers(const std::string& field) const {
    const Json& value = at(field);
    if (!value.is_array()) error(field, "expected a list of integers, found " + value.dump());
    std::vector<int> values;
    for (size_t i = 0; i < value.size(); ++i) values.push_back(integer(value[i], field + "[" + std::to_string(i) + "]"));
    return values;
  }
  // An int (the same on every level) or a list with one entry per level.
  std::vector<int> perLevel(const std::string& field, size_t levels) const {
    if (at(field).is_number()) return std::vector<int>(levels, integer(field));
    std::vector<int> values = integers(field);
    if (values.size() != levels) {
      error(field, "has " + std::to_string(values.size()) + " entries, expected " + std::to_string(levels) +
                       " (one per block_out_channels entry)");
    }
    return values;
  }
  std::vector<std::string> strings(const std::string& field) const {
    const Json& value = at(field);
    if (!value.is_array()) error(field, "expected a list of strings");
    std::vector<std::string> values;
    for (const auto& item : value) {
      if (!item.is_string()) error(field, "expected a list of strings, found " + item.dump());
      values.push_back(item.get<std::string>());
    }
    return values;
  }
  std::string text(const std::string& field) const {
    if (!at(field).is_string()) error(field, "expected a string, found " + at(field).dump());
    return at(field).get<std::string>();
  }

 private:
  Json root_;
  std::string source_;
};

// block_out_channels → model_channels and channel_mult.
void splitChannels(const JsonReader& reader, const std::vector<int>& block_out, int& base, std::vector<int>& mult) {
  if (block_out.empty()) reader.error("block_out_channels", "is empty");
  base = block_out.front();
  mult.clear();
  for (int channels : block_out) {
    if (base <= 0 || channels % base != 0) reader.error("block_out_channels", "entries must be multiples of the first");
    mult.push_back(channels / base);
  }
}

}  // namespace

UNetConfig parseDiffusersUNetConfig(const std::string& json_text, const std::string& source_name) {
  JsonReader reader(json_text, source_name);
  UNetConfig unet;
  if (reader.has("in_channels")) unet.in_channels = reader.integer("in_channels");
  if (reader.has("out_channels")) unet.out_channels = reader.integer("out_channels");
  const std::vector<int> block_out = reader.integers("block_out_channels");
  splitChannels(reader, block_out, unet.model_channels, unet.channel_mult);
  const size_t levels = block_out.size();
  unet.num_res_blocks = reader.has("layers_per_block") ? reader.perLevel("layers_per_block", levels) : std::vector<int>(levels, 2);

  // Attention levels from the down block types: CrossAttnDownBlock2D has a transformer, DownBlock2D none.
  const std::vector<std::string> down_types = reader.strings("down_block_types");
  if (down_types.size() != levels) reader.error("down_block_types", "needs one entry per block_out_channels entry");
  unet.attention_resolutions.clear();
  std::vector<bool> attention(levels, false);
  for (size_t level = 0; level < levels; ++level) {
    if (down_types[level] == "CrossAttnDownBlock2D") {
      attention[level] = true;
      unet.attention_resolutions.insert(unet.attention_resolutions.begin(), 1 << level);
    } else if (down_types[level] != "DownBlock2D") {
      reader.error("down_block_types", "\"" + down_types[level] + "\" is not supported");
    }
  }
  unet.transformer_depth = reader.has("transformer_layers_per_block")
                               ? reader.perLevel("transformer_layers_per_block", levels)
                               : std::vector<int>(levels, 1);
  unet.transformer_depth_middle = unet.transformer_depth.back();  // diffusers' mid block uses the last level's depth
  for (size_t level = 0; level < levels; ++level) {
    if (!attention[level]) unet.transformer_depth[level] = 0;
  }

  // diffusers' `attention_head_dim` historically holds the number of heads (SD1: 8; SD2/XL: [5, 10, 20, 20]);
  // `num_attention_heads`, where set, says so explicitly. An int is a head count for every level (num_heads);
  // a list gives a constant head width (num_head_channels).
  const std::string heads_field = reader.has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
  if (!reader.has(heads_field)) reader.error("attention_head_dim", "is missing");
  if (reader.at(heads_field).is_number()) {
    unet.num_heads = reader.integer(heads_field);
    unet.num_head_channels = -1;
  } else {
    const std::vector<int> heads = reader.perLevel(heads_field, levels);
    int width = -1;
    for (size_t level = 0; level < levels; ++level) {
      if (heads[level] <= 0 || block_out[level] % heads[level] != 0) {
        reader.error(heads_field, "entry " + std::to_string(level) + " does not divide the level's width");
      }
      const int level_width = block_out[level] / heads[level];
      if (attention[level] && width >= 0 && level_width != width) {
        reader.error(heads_field, "gives head widths that differ between levels (not supported)");
      }
      if (attention[level]) width = level_width;
    }
    if (width < 0) width = block_out.front() / heads.front();
    unet.num_head_channels = width;
  }
  unet.context_dim = reader.integer("cross_attention_dim");
  unet.use_linear_in_transformer = reader.has("use_linear_projection") && reader.boolean("use_linear_projection");
  if (reader.has("addition_embed_type")) {
    const std::string type = reader.text("addition_embed_type");
    if (type != "text_time") reader.error("addition_embed_type", "\"" + type + "\" is not supported (only \"text_time\")");
    unet.adm_in_channels = reader.integer("projection_class_embeddings_input_dim");
  }
  if (reader.has("class_embed_type")) reader.error("class_embed_type", "is not supported");
  if (reader.has("norm_num_groups")) unet.norm_groups = reader.integer("norm_num_groups");
  return unet;
}

VaeConfig parseDiffusersVaeConfig(const std::string& json_text, const std::string& source_name) {
  JsonReader reader(json_text, source_name);
  VaeConfig vae;
  splitChannels(reader, reader.integers("block_out_channels"), vae.ch, vae.ch_mult);
  if (reader.has("in_channels")) vae.in_channels = reader.integer("in_channels");
  if (reader.has("out_channels")) vae.out_ch = reader.integer("out_channels");
  if (reader.has("layers_per_block")) vae.num_res_blocks = reader.integer("layers_per_block");
  if (reader.has("latent_channels")) vae.z_channels = vae.embed_dim = reader.integer("latent_channels");
  if (reader.has("sample_size")) vae.resolution = reader.integer("sample_size");
  if (reader.has("scaling_factor")) vae.scale_factor = reader.number("scaling_factor");
  if (reader.has("norm_num_groups")) vae.norm_groups = reader.integer("norm_num_groups");
  vae.attn_resolutions.clear();  // diffusers' AutoencoderKL has attention only in the mid block
  vae.double_z = true;
  return vae;
}

}  // namespace gesso
