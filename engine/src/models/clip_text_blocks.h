// Transformer blocks of the CLIP text encoders in their two checkpoint layouts, and the HF layout's containers.
// Both blocks compute x + attn(ln1(x)), then x + mlp(ln2(x)), with causal self-attention.
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/nn/layers.h"

#include <torch/nn/modules/container/modulelist.h>

namespace gesso::models::detail {

// A pre-norm residual block: [B, L, W] -> [B, L, W]. mask: [L, L], -inf above the diagonal.
struct TextBlockImpl : torch::nn::Module {
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) = 0;
};

// HF CLIPEncoderLayer: self_attn.{q,k,v,out}_proj, layer_norm1, mlp.{fc1,fc2}, layer_norm2.
struct HfClipAttentionImpl : torch::nn::Module {
  HfClipAttentionImpl(const TextEncoderConfig& config, const torch::TensorOptions& options);
  nn::Linear k_proj{nullptr}, v_proj{nullptr}, q_proj{nullptr}, out_proj{nullptr};
};
TORCH_MODULE(HfClipAttention);

struct HfClipMlpImpl : torch::nn::Module {
  HfClipMlpImpl(const TextEncoderConfig& config, const torch::TensorOptions& options);
  nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(HfClipMlp);

struct HfClipLayerImpl : TextBlockImpl {
  HfClipLayerImpl(const TextEncoderConfig& config, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) override;

  HfClipAttention self_attn{nullptr};
  nn::LayerNorm layer_norm1{nullptr};
  HfClipMlp mlp{nullptr};
  nn::LayerNorm layer_norm2{nullptr};
  int heads = 1;
  TextActivation activation = TextActivation::QuickGelu;
};

struct HfClipEmbeddingsImpl : torch::nn::Module {
  HfClipEmbeddingsImpl(const TextEncoderConfig& config, const torch::TensorOptions& options);
  nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
};
TORCH_MODULE(HfClipEmbeddings);

struct HfClipEncoderImpl : torch::nn::Module {
  explicit HfClipEncoderImpl(torch::nn::ModuleList layer_list);
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(HfClipEncoder);

// HF CLIPTextTransformer (`text_model`): embeddings, encoder, final_layer_norm.
struct HfClipTextTransformerImpl : torch::nn::Module {
  HfClipTextTransformerImpl(const TextEncoderConfig& config, const torch::TensorOptions& options,
                            torch::nn::ModuleList layer_list);
  HfClipEmbeddings embeddings{nullptr};
  HfClipEncoder encoder{nullptr};
  nn::LayerNorm final_layer_norm{nullptr};
};
TORCH_MODULE(HfClipTextTransformer);

// open_clip ResidualAttentionBlock: ln_1, attn.{in_proj_weight, in_proj_bias, out_proj}, ln_2, mlp.{c_fc, c_proj}.
struct OpenClipAttentionImpl : torch::nn::Module {
  OpenClipAttentionImpl(const TextEncoderConfig& config, const torch::TensorOptions& options);
  torch::Tensor in_proj_weight;  // [3W, W]: q, k, v rows
  torch::Tensor in_proj_bias;    // [3W]
  std::vector<nn::LowRankAdapter> in_proj_adapters;  // LoRA on the q, k or v rows (gesso::lora); usually empty
  nn::Linear out_proj{nullptr};
};
TORCH_MODULE(OpenClipAttention);

struct OpenClipMlpImpl : torch::nn::Module {
  OpenClipMlpImpl(const TextEncoderConfig& config, const torch::TensorOptions& options);
  nn::Linear c_fc{nullptr};  // 1: activation (no parameters)
  nn::Linear c_proj{nullptr};
};
TORCH_MODULE(OpenClipMlp);

struct OpenClipResBlockImpl : TextBlockImpl {
  OpenClipResBlockImpl(const TextEncoderConfig& config, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) override;

  nn::LayerNorm ln_1{nullptr};
  OpenClipAttention attn{nullptr};
  nn::LayerNorm ln_2{nullptr};
  OpenClipMlp mlp{nullptr};
  int heads = 1;
  TextActivation activation = TextActivation::Gelu;
};

struct OpenClipTransformerImpl : torch::nn::Module {
  explicit OpenClipTransformerImpl(torch::nn::ModuleList block_list);
  torch::nn::ModuleList resblocks{nullptr};
};
TORCH_MODULE(OpenClipTransformer);

}  // namespace gesso::models::detail
