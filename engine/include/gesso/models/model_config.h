// One config struct per network, as sgm/LDM name their constructor arguments. Filled from a family preset,
// an LDM/sgm YAML, a diffusers config.json, an open_clip config, or detected from tensor shapes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gesso {

enum class ModelFamily { SD1, SD2, SDXL, Custom };
enum class Prediction { Epsilon, V };

const char* familyName(ModelFamily family);
const char* predictionName(Prediction prediction);

// sgm.modules.diffusionmodules.openaimodel.UNetModel.
struct UNetConfig {
  int in_channels = 4;
  int out_channels = 4;
  int model_channels = 320;
  std::vector<int> channel_mult{1, 2, 4, 4};
  std::vector<int> num_res_blocks{2, 2, 2, 2};         // per level (an int in the YAML is repeated)
  std::vector<int> attention_resolutions{4, 2, 1};     // downsample rates ("ds") that get a SpatialTransformer
  int num_heads = 8;                                   // used when num_head_channels == -1
  int num_head_channels = -1;                          // head width; -1: width / num_heads
  std::vector<int> transformer_depth{1, 1, 1, 1};      // per level
  int transformer_depth_middle = -1;                   // -1: the last level's depth
  int context_dim = 768;
  bool use_linear_in_transformer = false;
  int adm_in_channels = 0;                             // > 0: SDXL vector conditioning (num_classes "sequential")
  int norm_groups = 32;  // GroupNorm groups (diffusers' norm_num_groups; sgm fixes 32); small widths need fewer
};

// sgm/LDM AutoencoderKL (ddconfig + embed_dim).
struct VaeConfig {
  int embed_dim = 4;
  int z_channels = 4;
  int resolution = 256;
  int in_channels = 3;
  int out_ch = 3;
  int ch = 128;
  std::vector<int> ch_mult{1, 2, 4, 4};
  int num_res_blocks = 2;
  std::vector<int> attn_resolutions{};
  bool double_z = true;
  double scale_factor = 0.18215;
  int norm_groups = 32;  // GroupNorm groups (diffusers' norm_num_groups; sgm fixes 32)
};

enum class TextEncoderLayout {
  HuggingFaceClip,  // OpenAI CLIP in transformers' CLIPTextModel layout (SD1.x, SDXL embedder 0)
  OpenClip,         // open_clip TextTransformer layout (SD2.x, SDXL embedder 1)
};
enum class TextActivation { QuickGelu, Gelu };
enum class TextOutputLayer {
  Last,                   // final LayerNorm over the last layer (SD1.x)
  PenultimateNormed,      // the second-to-last layer, then the final LayerNorm (SD2.x)
  Penultimate,            // the second-to-last layer as is (SDXL both embedders)
};

struct TextEncoderConfig {
  TextEncoderLayout layout = TextEncoderLayout::HuggingFaceClip;
  int vocab_size = 49408;
  int max_positions = 77;
  int width = 768;
  int layers = 12;
  int heads = 12;         // where nothing says otherwise: width / 64
  int mlp_width = 3072;
  TextActivation activation = TextActivation::QuickGelu;
  double layer_norm_eps = 1e-5;
  int projection_dim = 0; // > 0: text_projection [width, projection_dim] gives a pooled output
  TextOutputLayer output_layer = TextOutputLayer::Last;
  int64_t pad_token = 49407;  // HF CLIP pads with end-of-text; open_clip with 0
};

struct ModelConfig {
  ModelFamily family = ModelFamily::SD1;
  Prediction prediction = Prediction::Epsilon;
  UNetConfig unet;
  VaeConfig vae;
  std::vector<TextEncoderConfig> text_encoders;  // one (SD1/SD2) or two (SDXL)
};

// The reference configs of the released models (the YAMLs in CompVis/stable-diffusion and generative-models).
ModelConfig presetConfig(ModelFamily family, Prediction prediction = Prediction::Epsilon);
// By name: "sd15" (also "sd1"), "sd21" ("sd2"), "sd21-v" ("sd2-768-v"), "sdxl". Throws ConfigError.
ModelConfig presetConfig(const std::string& name);
std::vector<std::string> presetNames();

// The config from tensor names and shapes (full checkpoint keys). Not knowable from shapes, and therefore defaults:
// the prediction type (Epsilon unless a `v_pred` key is present), num_heads vs num_head_channels (SD1-style conv
// projections: num_heads 8; otherwise num_head_channels 64), text-encoder head counts (width / 64) and the VAE's
// resolution (256). Parts that are absent keep the defaults above; throws ConfigError when no part is found.
ModelConfig detectConfig(const std::map<std::string, std::vector<int64_t>>& shapes);

// The family a UNet config belongs to (context_dim, projections, vector conditioning), Custom otherwise.
ModelFamily familyFromUNet(const UNetConfig& unet);

// One spelling for configs that build the same network: transformer_depth_middle resolved, depth 0 on levels
// without attention, attention_resolutions sorted descending, num_heads unused when num_head_channels is set.
UNetConfig canonicalUNet(UNetConfig unet);

// A JSON text of the whole config (stable key order), for the CLI and for test messages.
std::string configToJson(const ModelConfig& config, int indent = 2);
std::string unetConfigToJson(const UNetConfig& unet, int indent = 2);
std::string vaeConfigToJson(const VaeConfig& vae, int indent = 2);
std::string textEncoderConfigToJson(const TextEncoderConfig& text, int indent = 2);

}  // namespace gesso
