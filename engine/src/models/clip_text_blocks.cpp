// The CLIP text transformer blocks in HF and open_clip layouts; see clip_text_blocks.h.
#include "models/clip_text_blocks.h"

#include <ATen/ATen.h>

#include <cmath>

namespace gesso::models::detail {
namespace {

torch::Tensor activate(const torch::Tensor& x, TextActivation activation) {
  if (activation == TextActivation::QuickGelu) return x * at::sigmoid(1.702 * x);  // OpenAI CLIP's QuickGELU
  return at::gelu(x);                                                              // exact (erf) GELU
}

// Scaled dot-product attention over heads, as torch.nn.MultiheadAttention computes it (scale q, then
// baddbmm with the additive mask). q, k, v: [B, L, W] -> [B, L, W].
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int heads,
                     const torch::Tensor& mask) {
  const int64_t batch = q.size(0), length = q.size(1), width = q.size(2);
  const int64_t head_dim = width / heads;
  const auto split = [&](const torch::Tensor& t) {
    return t.reshape({batch, length, heads, head_dim}).transpose(1, 2).reshape({batch * heads, length, head_dim});  // [B*h, L, d]
  };
  const torch::Tensor scaled_q = split(q) / std::sqrt(static_cast<double>(head_dim));
  const torch::Tensor scores = at::baddbmm(mask, scaled_q, split(k).transpose(1, 2));  // [B*h, L, L]
  const torch::Tensor out = at::bmm(at::softmax(scores, -1), split(v));                // [B*h, L, d]
  return out.reshape({batch, heads, length, head_dim}).transpose(1, 2).reshape({batch, length, width});  // [B, L, W]
}

}  // namespace

HfClipAttentionImpl::HfClipAttentionImpl(const TextEncoderConfig& config, const torch::TensorOptions& options) {
  k_proj = register_module("k_proj", nn::Linear(config.width, config.width, options));
  v_proj = register_module("v_proj", nn::Linear(config.width, config.width, options));
  q_proj = register_module("q_proj", nn::Linear(config.width, config.width, options));
  out_proj = register_module("out_proj", nn::Linear(config.width, config.width, options));
}

HfClipMlpImpl::HfClipMlpImpl(const TextEncoderConfig& config, const torch::TensorOptions& options) {
  fc1 = register_module("fc1", nn::Linear(config.width, config.mlp_width, options));
  fc2 = register_module("fc2", nn::Linear(config.mlp_width, config.width, options));
}

HfClipLayerImpl::HfClipLayerImpl(const TextEncoderConfig& config, const torch::TensorOptions& options)
    : heads(config.heads), activation(config.activation) {
  self_attn = register_module("self_attn", HfClipAttention(config, options));
  layer_norm1 = register_module("layer_norm1", nn::LayerNorm(config.width, options, config.layer_norm_eps));
  mlp = register_module("mlp", HfClipMlp(config, options));
  layer_norm2 = register_module("layer_norm2", nn::LayerNorm(config.width, options, config.layer_norm_eps));
}

torch::Tensor HfClipLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const torch::Tensor h = layer_norm1(x);
  const torch::Tensor attended =
      attend(self_attn->q_proj(h), self_attn->k_proj(h), self_attn->v_proj(h), heads, mask);
  const torch::Tensor y = x + self_attn->out_proj(attended);
  return y + mlp->fc2(activate(mlp->fc1(layer_norm2(y)), activation));
}

HfClipEmbeddingsImpl::HfClipEmbeddingsImpl(const TextEncoderConfig& config, const torch::TensorOptions& options) {
  token_embedding = register_module("token_embedding", nn::Embedding(config.vocab_size, config.width, options));
  position_embedding = register_module("position_embedding", nn::Embedding(config.max_positions, config.width, options));
}

HfClipEncoderImpl::HfClipEncoderImpl(torch::nn::ModuleList layer_list) {
  layers = register_module("layers", std::move(layer_list));
}

HfClipTextTransformerImpl::HfClipTextTransformerImpl(const TextEncoderConfig& config, const torch::TensorOptions& options,
                                                     torch::nn::ModuleList layer_list) {
  embeddings = register_module("embeddings", HfClipEmbeddings(config, options));
  encoder = register_module("encoder", HfClipEncoder(std::move(layer_list)));
  final_layer_norm = register_module("final_layer_norm", nn::LayerNorm(config.width, options, config.layer_norm_eps));
}

OpenClipAttentionImpl::OpenClipAttentionImpl(const TextEncoderConfig& config, const torch::TensorOptions& options) {
  in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * config.width, config.width}, options));
  in_proj_bias = register_parameter("in_proj_bias", torch::empty({3 * config.width}, options));
  out_proj = register_module("out_proj", nn::Linear(config.width, config.width, options));
}

OpenClipMlpImpl::OpenClipMlpImpl(const TextEncoderConfig& config, const torch::TensorOptions& options) {
  c_fc = register_module("c_fc", nn::Linear(config.width, config.mlp_width, options));
  c_proj = register_module("c_proj", nn::Linear(config.mlp_width, config.width, options));
}

OpenClipResBlockImpl::OpenClipResBlockImpl(const TextEncoderConfig& config, const torch::TensorOptions& options)
    : heads(config.heads), activation(config.activation) {
  ln_1 = register_module("ln_1", nn::LayerNorm(config.width, options, config.layer_norm_eps));
  attn = register_module("attn", OpenClipAttention(config, options));
  ln_2 = register_module("ln_2", nn::LayerNorm(config.width, options, config.layer_norm_eps));
  mlp = register_module("mlp", OpenClipMlp(config, options));
}

torch::Tensor OpenClipResBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const torch::Tensor h = ln_1(x);
  const torch::Tensor projected = nn::addLinearAdapters(h, at::linear(h, attn->in_proj_weight, attn->in_proj_bias),
                                                        attn->in_proj_adapters);  // [B, L, 3W]
  const std::vector<torch::Tensor> qkv = projected.chunk(3, -1);                     // 3 x [B, L, W]
  const torch::Tensor y = x + attn->out_proj(attend(qkv[0], qkv[1], qkv[2], heads, mask));
  return y + mlp->c_proj(activate(mlp->c_fc(ln_2(y)), activation));
}

OpenClipTransformerImpl::OpenClipTransformerImpl(torch::nn::ModuleList block_list) {
  resblocks = register_module("resblocks", std::move(block_list));
}

}  // namespace gesso::models::detail
