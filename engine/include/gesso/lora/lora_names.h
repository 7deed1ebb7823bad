// The layers a LoRA can change and the names LoRA files give them: kohya's `lora_unet_…` / `lora_te_…` names (the
// UNet in both its LDM/sgm layout, as kohya writes SDXL LoRAs, and its diffusers layout, as kohya writes SD1/SD2 ones)
// and the dotted diffusers/PEFT module names (`unet.down_blocks.0…`, `text_encoder.text_model…`).
#pragma once

#include "gesso/models/clip_text.h"
#include "gesso/models/model_config.h"
#include "gesso/models/unet.h"
#include "gesso/nn/layers.h"

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gesso::lora {

// Which of kohya's module sets (networks/lora.py) a layer belongs to.
enum class ModuleGroup {
  Transformer,  // Linear / 1×1 conv inside a SpatialTransformer (Transformer2DModel): proj_in, proj_out, attn1/attn2
                // to_q/to_k/to_v/to_out.0, ff.net.0.proj, ff.net.2
  ResidualBlock,  // inside a ResBlock, Downsample or Upsample (ResnetBlock2D, Downsample2D, Upsample2D): LoCon only
  TextEncoder,    // CLIPAttention q/k/v/out_proj and CLIPMLP fc1/fc2 (open_clip: in_proj q/k/v rows, out_proj, c_fc, c_proj)
  Other,          // any other UNet Linear/Conv2d (conv_in, time_embed, out…): loadable, never trained
};

enum class ComponentKind { UNet, TextEncoder };

// One weight a LoRA can change: a Linear or Conv2d weight, or the q, k or v rows of open_clip's fused in_proj.
struct LoraTarget {
  std::string name;                  // kohya name, e.g. lora_unet_input_blocks_1_1_proj_in, lora_te1_text_model_…
  std::vector<std::string> aliases;  // other names files use for it (kohya diffusers layout; dotted diffusers/PEFT)
  std::string module_path;           // the module's path inside its network (for messages), e.g. input_blocks.1.1.proj_in
  ComponentKind component = ComponentKind::UNet;
  size_t text_encoder = 0;           // which text encoder (component TextEncoder)
  ModuleGroup group = ModuleGroup::Other;
  at::Tensor weight;                 // the parameter itself: [out, in] or [out, in, k, k]
  int64_t row_offset = 0;            // the rows of `weight` this target covers
  int64_t rows = 0;
  bool conv = false;                 // Conv2d geometry (down [r, in, k, k], up [rows, r, 1, 1])
  int64_t kernel_size = 1;
  std::vector<nn::LowRankAdapter>* adapters = nullptr;  // where a forward-pass adapter goes

  int64_t inFeatures() const { return weight.size(1); }
};

// kohya's name of a module path: prefix + the path with dots replaced by underscores.
std::string kohyaName(const std::string& prefix, const std::string& module_path);

// Every Linear and Conv2d of the UNet, in module order, with its group. Names: lora_unet_ + LDM path; aliases:
// lora_unet_ + diffusers path and unet. + diffusers path.
std::vector<LoraTarget> unetTargets(models::UNet& unet);

// The text encoder's attention and MLP projections (6 per layer, in layer order). `kohya_prefix` is lora_te_ (SD1/SD2)
// or lora_te1_ / lora_te2_ (SDXL); `dotted_prefix` text_encoder / text_encoder_2. open_clip layers take the names of
// the HF layout they convert to (in_proj rows -> q_proj/k_proj/v_proj, c_fc -> mlp.fc1, c_proj -> mlp.fc2), as kohya does.
std::vector<LoraTarget> textEncoderTargets(models::TextEncoder& encoder, size_t index, const std::string& kohya_prefix,
                                           const std::string& dotted_prefix);

// The UNet's targets followed by each text encoder's, with the prefixes of the model's family.
std::vector<LoraTarget> modelTargets(models::UNet& unet, std::vector<models::TextEncoder>& text_encoders,
                                     const ModelConfig& config);

// The kohya prefix of text encoder `index` for a family ("lora_te_" or "lora_te1_"/"lora_te2_").
std::string textEncoderKohyaPrefix(const ModelConfig& config, size_t index);

}  // namespace gesso::lora
