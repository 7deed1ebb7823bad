// Text-encoder configs from the files that describe them: a HuggingFace CLIPTextConfig (config.json) or an
// open_clip model config (<arch>.json with embed_dim and text_cfg). Only the network is described: the
// output layer stays Last and is chosen by the model family.
#pragma once

#include "gesso/models/model_config.h"

#include <string>

namespace gesso::models {

// HF CLIPTextConfig: hidden_size, num_hidden_layers, intermediate_size (required); num_attention_heads
// (default hidden_size / 64), hidden_act ("quick_gelu" default, "gelu"), max_position_embeddings (77),
// vocab_size (49408), layer_norm_eps (1e-5). projection_dim is used only for CLIPTextModelWithProjection
// (listed in "architectures"); a plain CLIPTextModel has no projection whatever projection_dim says.
// Throws GessoError(ConfigError) naming a missing or ill-typed field.
TextEncoderConfig textConfigFromHfJson(const std::string& json_text);

// open_clip: embed_dim (projection), text_cfg {width, layers (required), heads (default 8, as open_clip),
// context_length (77), vocab_size (49408), mlp_ratio (4)}; "quick_gelu": true selects QuickGELU, otherwise
// exact GELU. Text towers this encoder cannot express (hf_model_name, embed_cls, attentional pooling, layer
// scale, a non-argmax pool_type, no causal mask, a projection bias) are ConfigErrors. Pads with 0.
TextEncoderConfig textConfigFromOpenClipJson(const std::string& json_text);

}  // namespace gesso::models
