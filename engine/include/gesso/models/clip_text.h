// The CLIP text encoders of Stable Diffusion: OpenAI CLIP in HuggingFace's CLIPTextModel layout (SD1.x, SDXL
// embedder 0) and open_clip's TextTransformer (SD2.x, SDXL embedder 1). One class; the layout picks the names.
#pragma once

#include "gesso/models/model_config.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

namespace gesso::nn {
struct LayerNormImpl;
}

namespace gesso::models {

namespace detail {
struct TextBlockImpl;
}

struct TextEncoderOutput {
  torch::Tensor last_hidden_state;           // [B, L, W]: final LayerNorm over the last layer's output
  torch::Tensor penultimate_hidden_state;    // [B, L, W]: the second-to-last layer's output, no final LayerNorm
  torch::Tensor pooler_output;               // [B, W]: last_hidden_state at the first end-of-text (argmax of ids)
  torch::Tensor pooled;                      // [B, P]: pooler_output @ projection; undefined without a projection
  std::vector<torch::Tensor> hidden_states;  // layers + 1: [0] embeddings, [i] output of layer i-1, no final LN
};

// Parameter names, minus the checkpoint prefix (cond_stage_model.transformer. / conditioner.embedders.0.transformer.
// for HuggingFaceClip, cond_stage_model.model. / conditioner.embedders.1.model. for OpenClip):
//   HuggingFaceClip: text_model.embeddings.{token_embedding,position_embedding}.weight,
//     text_model.encoder.layers.N.{self_attn.{q,k,v,out}_proj, layer_norm1, mlp.fc1, mlp.fc2, layer_norm2}.*,
//     text_model.final_layer_norm.*, and text_projection.weight when projection_dim > 0 (CLIPTextModelWithProjection).
//   OpenClip: token_embedding.weight, positional_embedding, transformer.resblocks.N.{ln_1, attn.in_proj_weight,
//     attn.in_proj_bias, attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj}.*, ln_final.*, text_projection (when
//     projection_dim > 0), logit_scale (unused; real checkpoints carry it).
class TextEncoderImpl : public torch::nn::Module {
 public:
  TextEncoderImpl(const TextEncoderConfig& config, const torch::TensorOptions& options);

  // input_ids: int64 [B, L] with L <= max_positions; a causal mask is applied.
  TextEncoderOutput forward(const torch::Tensor& input_ids);

  // What the UNet sees as context. clip_skip 0: the layer's default (Last: last_hidden_state; PenultimateNormed:
  // final LN of the penultimate; Penultimate: the penultimate as is). clip_skip N >= 1: the output of the N-th
  // layer from the end (1 = last, 2 = penultimate, as in the usual "clip skip"), with the final LayerNorm for
  // Last and PenultimateNormed (SD1.x, SD2.x) and without for Penultimate (SDXL).
  torch::Tensor conditioning(const TextEncoderOutput& output, TextOutputLayer layer, int clip_skip = 0);
  torch::Tensor conditioning(const TextEncoderOutput& output) { return conditioning(output, config_.output_layer); }

  torch::Tensor finalLayerNorm(const torch::Tensor& x);  // final_layer_norm / ln_final
  const TextEncoderConfig& config() const { return config_; }

 private:
  TextEncoderConfig config_;
  torch::Tensor token_embedding_;     // [vocab, W]
  torch::Tensor position_embedding_;  // [max_positions, W]
  std::vector<std::shared_ptr<detail::TextBlockImpl>> blocks_;
  std::shared_ptr<nn::LayerNormImpl> final_norm_;
  torch::Tensor projection_;          // OpenClip: [W, P] (x @ P); HuggingFaceClip: Linear weight [P, W]
};
TORCH_MODULE(TextEncoder);

// Checkpoint tensors a text encoder may carry that are not parameters (HF's embeddings.position_ids buffer).
bool isOptionalTextEncoderKey(const std::string& name);

}  // namespace gesso::models
