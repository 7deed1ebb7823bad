// The CLIP text encoder over either checkpoint layout; see clip_text.h.
#include "gesso/models/clip_text.h"

#include "gesso/error.h"
#include "gesso/nn/layers.h"
#include "models/clip_text_blocks.h"

#include <ATen/ATen.h>

#include <limits>

namespace gesso::models {
namespace {

void validate(const TextEncoderConfig& config) {
  const auto require = [](bool ok, const std::string& what) {
    if (!ok) fail(ErrorCode::ConfigError, "text encoder config: " + what);
  };
  require(config.width > 0 && config.layers > 0 && config.heads > 0 && config.mlp_width > 0 && config.vocab_size > 0 &&
              config.max_positions > 0,
          "width, layers, heads, mlp_width, vocab_size and max_positions must be positive");
  require(config.width % config.heads == 0, "width " + std::to_string(config.width) + " is not divisible by heads " +
                                                 std::to_string(config.heads));
  require(config.projection_dim >= 0, "projection_dim must not be negative");
}

}  // namespace

TextEncoderImpl::TextEncoderImpl(const TextEncoderConfig& config, const torch::TensorOptions& options) : config_(config) {
  validate(config_);
  torch::nn::ModuleList blocks;
  for (int i = 0; i < config_.layers; ++i) {
    std::shared_ptr<detail::TextBlockImpl> block;
    if (config_.layout == TextEncoderLayout::HuggingFaceClip) {
      block = std::make_shared<detail::HfClipLayerImpl>(config_, options);
    } else {
      block = std::make_shared<detail::OpenClipResBlockImpl>(config_, options);
    }
    blocks->push_back(block);
    blocks_.push_back(block);
  }

  if (config_.layout == TextEncoderLayout::HuggingFaceClip) {
    auto text_model = register_module("text_model", detail::HfClipTextTransformer(config_, options, blocks));
    token_embedding_ = text_model->embeddings->token_embedding->weight;
    position_embedding_ = text_model->embeddings->position_embedding->weight;
    final_norm_ = text_model->final_layer_norm.ptr();
    if (config_.projection_dim > 0) {  // CLIPTextModelWithProjection: a bias-free Linear
      auto projection = register_module(
          "text_projection", nn::Linear(config_.width, config_.projection_dim, options, /*with_bias=*/false));
      projection_ = projection->weight;
    }
  } else {
    auto token_embedding = register_module("token_embedding", nn::Embedding(config_.vocab_size, config_.width, options));
    token_embedding_ = token_embedding->weight;
    position_embedding_ =
        register_parameter("positional_embedding", torch::empty({config_.max_positions, config_.width}, options));
    register_module("transformer", detail::OpenClipTransformer(blocks));
    final_norm_ = register_module("ln_final", nn::LayerNorm(config_.width, options, config_.layer_norm_eps));
    if (config_.projection_dim > 0) {
      projection_ = register_parameter("text_projection", torch::empty({config_.width, config_.projection_dim}, options));
    }
    register_parameter("logit_scale", torch::empty({}, options));
  }
}

TextEncoderOutput TextEncoderImpl::forward(const torch::Tensor& input_ids) {
  if (input_ids.dim() != 2 || input_ids.scalar_type() != at::kLong) {
    fail(ErrorCode::InvalidArgument, "text encoder input_ids must be int64 [batch, length]");
  }
  const int64_t batch = input_ids.size(0), length = input_ids.size(1);
  if (length < 1 || length > config_.max_positions) {
    fail(ErrorCode::InvalidArgument, "text encoder input length " + std::to_string(length) + " is outside 1.." +
                                         std::to_string(config_.max_positions));
  }
  const torch::Tensor ids = input_ids.to(token_embedding_.device());
  if (ids.numel() > 0 && (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= config_.vocab_size)) {
    fail(ErrorCode::InvalidArgument, "text encoder input_ids must lie in 0.." + std::to_string(config_.vocab_size - 1));
  }

  TextEncoderOutput output;
  torch::Tensor x = at::embedding(token_embedding_, ids) + position_embedding_.slice(0, 0, length);  // [B, L, W]
  const torch::Tensor mask =
      at::full({length, length}, -std::numeric_limits<float>::infinity(), x.options()).triu_(1);  // [L, L]
  output.hidden_states.reserve(blocks_.size() + 1);
  output.hidden_states.push_back(x);
  for (const auto& block : blocks_) {
    x = block->forward(x, mask);
    output.hidden_states.push_back(x);
  }
  output.last_hidden_state = final_norm_->forward(x);
  output.penultimate_hidden_state = output.hidden_states[blocks_.size() - 1];

  // The first end-of-text: the highest id in the window.
  const torch::Tensor eot = ids.argmax(-1);                                             // [B]
  const torch::Tensor index = eot.view({batch, 1, 1}).expand({batch, 1, config_.width});  // [B, 1, W]
  output.pooler_output = output.last_hidden_state.gather(1, index).squeeze(1);          // [B, W]
  if (projection_.defined()) {
    output.pooled = config_.layout == TextEncoderLayout::HuggingFaceClip ? at::linear(output.pooler_output, projection_)
                                                                         : at::matmul(output.pooler_output, projection_);
  }
  return output;
}

torch::Tensor TextEncoderImpl::finalLayerNorm(const torch::Tensor& x) { return final_norm_->forward(x); }

torch::Tensor TextEncoderImpl::conditioning(const TextEncoderOutput& output, TextOutputLayer layer, int clip_skip) {
  if (clip_skip == 0) {
    switch (layer) {
      case TextOutputLayer::Last:
        return output.last_hidden_state;
      case TextOutputLayer::PenultimateNormed:
        return finalLayerNorm(output.penultimate_hidden_state);
      case TextOutputLayer::Penultimate:
        return output.penultimate_hidden_state;
    }
  }
  const int layers = static_cast<int>(output.hidden_states.size()) - 1;
  if (clip_skip < 1 || clip_skip > layers) {
    fail(ErrorCode::InvalidArgument, "clip skip " + std::to_string(clip_skip) + " is outside 1.." +
                                         std::to_string(layers) + " (0 keeps the model's default layer)");
  }
  const torch::Tensor& hidden = output.hidden_states[static_cast<size_t>(layers + 1 - clip_skip)];
  return layer == TextOutputLayer::Penultimate ? hidden : finalLayerNorm(hidden);
}

bool isOptionalTextEncoderKey(const std::string& name) {
  static const std::string kPositionIds = "text_model.embeddings.position_ids";
  return name.size() >= kPositionIds.size() &&
         name.compare(name.size() - kPositionIds.size(), kPositionIds.size(), kPositionIds) == 0;
}

}  // namespace gesso::models
