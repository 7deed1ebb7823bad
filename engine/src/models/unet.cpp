// sgm's UNetModel: construction follows openaimodel.py level by level so that the block indices match the
// checkpoint keys; see unet.h.
#include "gesso/models/unet.h"

#include "gesso/error.h"
#include "gesso/nn/timestep_embedding.h"
#include "gesso/training/grad_checkpoint.h"
#include "gesso/util/shape_text.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

namespace gesso::models {

namespace {

// A per-level list: one value per level, or a single value repeated.
std::vector<int> perLevel(const std::vector<int>& values, size_t levels, const char* field) {
  if (values.size() == levels) return values;
  if (values.size() == 1) return std::vector<int>(levels, values[0]);
  fail(ErrorCode::ConfigError, std::string("UNet config: ") + field + " has " + std::to_string(values.size()) +
                                   " entries, expected 1 or one per level (" + std::to_string(levels) + ")");
}

struct HeadLayout {
  int64_t heads = 1;
  int64_t head_dim = 1;
};

// legacy=False head layout: num_head_channels fixes the head width, otherwise num_heads splits the width.
HeadLayout headLayout(const UNetConfig& config, int64_t channels) {
  if (config.num_head_channels < 1) {  // -1 in the reference: unset
    if (config.num_heads < 1 || channels % config.num_heads != 0) {
      fail(ErrorCode::ConfigError, "UNet config: num_heads " + std::to_string(config.num_heads) +
                                       " must divide the block width " + std::to_string(channels));
    }
    return {config.num_heads, channels / config.num_heads};
  }
  if (config.num_head_channels < 1 || channels % config.num_head_channels != 0) {
    fail(ErrorCode::ConfigError, "UNet config: num_head_channels " + std::to_string(config.num_head_channels) +
                                     " must divide the block width " + std::to_string(channels));
  }
  return {channels / config.num_head_channels, config.num_head_channels};
}

void validate(const UNetConfig& config) {
  if (config.channel_mult.empty()) fail(ErrorCode::ConfigError, "UNet config: channel_mult is empty");
  if (config.in_channels < 1 || config.out_channels < 1 || config.model_channels < 1) {
    fail(ErrorCode::ConfigError, "UNet config: in_channels, out_channels and model_channels must be positive");
  }
  for (int mult : config.channel_mult) {
    if (mult < 1) fail(ErrorCode::ConfigError, "UNet config: channel_mult entries must be positive");
  }
  if (config.adm_in_channels < 0) fail(ErrorCode::ConfigError, "UNet config: adm_in_channels must be >= 0");
  // The middle block always holds a SpatialTransformer, so every UNet cross-attends to a context.
  if (config.context_dim < 1) fail(ErrorCode::ConfigError, "UNet config: context_dim must be positive");
  if (config.num_heads < 1 && config.num_head_channels < 1) {
    fail(ErrorCode::ConfigError, "UNet config: set num_heads or num_head_channels (both are unset)");
  }
}

bool hasAttention(const UNetConfig& config, int ds) {
  const auto& resolutions = config.attention_resolutions;
  return std::find(resolutions.begin(), resolutions.end(), ds) != resolutions.end();
}

}  // namespace

void UNetBlockImpl::append(nn::Conv2d layer) {
  register_module(std::to_string(steps.size()), layer);
  steps.push_back([layer](const at::Tensor& x, const at::Tensor&, const at::Tensor&) mutable { return layer(x); });
}

void UNetBlockImpl::append(nn::ResBlock layer) {
  register_module(std::to_string(steps.size()), layer);
  steps.push_back(
      [layer](const at::Tensor& x, const at::Tensor& emb, const at::Tensor&) mutable { return layer(x, emb); });
}

void UNetBlockImpl::append(nn::SpatialTransformer layer) {
  register_module(std::to_string(steps.size()), layer);
  steps.push_back([layer](const at::Tensor& x, const at::Tensor&, const at::Tensor& context) mutable {
    return layer(x, context);
  });
}

void UNetBlockImpl::append(nn::Downsample layer) {
  register_module(std::to_string(steps.size()), layer);
  steps.push_back([layer](const at::Tensor& x, const at::Tensor&, const at::Tensor&) mutable { return layer(x); });
}

void UNetBlockImpl::append(nn::Upsample layer) {
  register_module(std::to_string(steps.size()), layer);
  steps.push_back([layer](const at::Tensor& x, const at::Tensor&, const at::Tensor&) mutable { return layer(x); });
}

at::Tensor UNetBlockImpl::forward(const at::Tensor& x, const at::Tensor& emb, const at::Tensor& context) {
  at::Tensor h = x;
  for (auto& step : steps) h = step(h, emb, context);
  return h;
}

UNetImpl::UNetImpl(const UNetConfig& config, const torch::TensorOptions& options) : config_(config) {
  validate(config);
  const size_t levels = config.channel_mult.size();
  const std::vector<int> num_res_blocks = perLevel(config.num_res_blocks, levels, "num_res_blocks");
  const std::vector<int> transformer_depth = perLevel(config.transformer_depth, levels, "transformer_depth");
  const int64_t depth_middle =
      config.transformer_depth_middle >= 0 ? config.transformer_depth_middle : transformer_depth.back();
  const int64_t model_channels = config.model_channels;
  const int64_t time_embed_dim = 4 * model_channels;
  const auto projection =
      config.use_linear_in_transformer ? nn::ProjectionKind::Linear : nn::ProjectionKind::Conv1x1;

  auto time_embed = register_module("time_embed", nn::numberedContainer());
  time_embed_in = time_embed->register_module("0", nn::Linear(model_channels, time_embed_dim, options));
  // 1: SiLU
  time_embed_out = time_embed->register_module("2", nn::Linear(time_embed_dim, time_embed_dim, options));

  if (config.adm_in_channels > 0) {  // num_classes "sequential"
    auto label_emb = register_module("label_emb", nn::numberedContainer());
    auto sequential = label_emb->register_module("0", nn::numberedContainer());
    label_emb_in = sequential->register_module("0", nn::Linear(config.adm_in_channels, time_embed_dim, options));
    // 1: SiLU
    label_emb_out = sequential->register_module("2", nn::Linear(time_embed_dim, time_embed_dim, options));
  }

  auto spatialTransformer = [&](int64_t channels, int64_t depth) {
    const HeadLayout layout = headLayout(config, channels);
    nn::SpatialTransformer transformer(channels, layout.heads, layout.head_dim, depth, config.context_dim,
                                       projection, config.norm_groups, options);
    transformers_.push_back(transformer);
    return transformer;
  };

  input_blocks = register_module("input_blocks", torch::nn::ModuleList());
  auto addInputBlock = [&](UNetBlock block) {
    input_block_list_.push_back(block);
    input_blocks->push_back(block);
  };
  UNetBlock stem;
  stem->append(nn::Conv2d(config.in_channels, model_channels, 3, options, 1, 1));
  addInputBlock(stem);

  std::vector<int64_t> skip_channels{model_channels};
  int64_t channels = model_channels;
  int ds = 1;
  for (size_t level = 0; level < levels; ++level) {
    const int64_t level_channels = config.channel_mult[level] * model_channels;
    for (int i = 0; i < num_res_blocks[level]; ++i) {
      UNetBlock block;
      block->append(nn::ResBlock(channels, time_embed_dim, level_channels, config.norm_groups, options));
      channels = level_channels;
      if (hasAttention(config, ds)) block->append(spatialTransformer(channels, transformer_depth[level]));
      addInputBlock(block);
      skip_channels.push_back(channels);
    }
    if (level + 1 != levels) {
      UNetBlock block;
      block->append(nn::Downsample(channels, channels, options));
      addInputBlock(block);
      skip_channels.push_back(channels);
      ds *= 2;
    }
  }

  middle_block = register_module("middle_block", UNetBlock());
  middle_block->append(nn::ResBlock(channels, time_embed_dim, channels, config.norm_groups, options));
  middle_block->append(spatialTransformer(channels, depth_middle));
  middle_block->append(nn::ResBlock(channels, time_embed_dim, channels, config.norm_groups, options));

  output_blocks = register_module("output_blocks", torch::nn::ModuleList());
  for (size_t level = levels; level-- > 0;) {
    const int64_t level_channels = config.channel_mult[level] * model_channels;
    for (int i = 0; i <= num_res_blocks[level]; ++i) {
      const int64_t skip = skip_channels.back();
      skip_channels.pop_back();
      UNetBlock block;
      block->append(nn::ResBlock(channels + skip, time_embed_dim, level_channels, config.norm_groups, options));
      channels = level_channels;
      if (hasAttention(config, ds)) block->append(spatialTransformer(channels, transformer_depth[level]));
      if (level > 0 && i == num_res_blocks[level]) {
        block->append(nn::Upsample(channels, channels, options));
        ds /= 2;
      }
      output_block_list_.push_back(block);
      output_blocks->push_back(block);
    }
  }

  auto out = register_module("out", nn::numberedContainer());
  out_norm = out->register_module("0", nn::groupNorm(config.norm_groups, channels, options));
  // 1: SiLU
  out_conv = out->register_module("2", nn::Conv2d(model_channels, config.out_channels, 3, options, 1, 1));
}

void UNetImpl::setAttentionOptions(const nn::AttentionOptions& options) {
  for (auto& transformer : transformers_) transformer->setAttentionOptions(options);
}

at::Tensor UNetImpl::embedTimesteps(const at::Tensor& timesteps, const at::Tensor& y) {
  const at::Tensor t_emb = nn::timestepEmbedding(timesteps, config_.model_channels)
                               .to(time_embed_in->weight.scalar_type());  // [N, model_channels]
  at::Tensor emb = time_embed_out(at::silu(time_embed_in(t_emb)));          // [N, 4·model_channels]
  if (label_emb_in) emb = emb + label_emb_out(at::silu(label_emb_in(y.to(emb.scalar_type()))));
  return emb;
}

void UNetImpl::setGradientCheckpointing(bool enabled) {
  gradient_checkpointing_ = enabled;
  checkpoint_bodies_.clear();
  if (!enabled) return;
  auto body = [](UNetBlock block) {
    return [block](const std::vector<at::Tensor>& in) mutable { return block->forward(in[0], in[1], in[2]); };
  };
  for (auto& block : input_block_list_) checkpoint_bodies_.push_back(body(block));
  checkpoint_bodies_.push_back(body(middle_block));
  for (auto& block : output_block_list_) checkpoint_bodies_.push_back(body(block));
}

at::Tensor UNetImpl::forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& context,
                             const at::Tensor& y, const UNetBlockHook& hook) {
  if (!x.defined() || x.dim() != 4 || x.size(1) != config_.in_channels) {
    fail(ErrorCode::ShapeMismatch, "UNet: x must be [N, " + std::to_string(config_.in_channels) +
                                       ", H, W], got " + (x.defined() ? shapeText(x) : std::string("nothing")));
  }
  const int64_t batch = x.size(0);
  const int64_t factor = int64_t(1) << (config_.channel_mult.size() - 1);
  if (x.size(2) % factor != 0 || x.size(3) % factor != 0) {
    fail(ErrorCode::ShapeMismatch, "UNet: the latent height and width must be multiples of " +
                                       std::to_string(factor) + ", got " + shapeText(x));
  }
  if (!timesteps.defined() || timesteps.dim() != 1 || timesteps.size(0) != batch) {
    fail(ErrorCode::ShapeMismatch, "UNet: timesteps must be [" + std::to_string(batch) + "], got " +
                                       (timesteps.defined() ? shapeText(timesteps) : std::string("nothing")));
  }
  if (!context.defined() || context.dim() != 3 || context.size(0) != batch || context.size(2) != config_.context_dim) {
    fail(ErrorCode::ShapeMismatch, "UNet: context must be [" + std::to_string(batch) + ", M, " +
                                       std::to_string(config_.context_dim) + "], got " +
                                       (context.defined() ? shapeText(context) : std::string("nothing")));
  }
  if (config_.adm_in_channels > 0) {
    if (!y.defined() || y.dim() != 2 || y.size(0) != batch || y.size(1) != config_.adm_in_channels) {
      fail(ErrorCode::ShapeMismatch, "UNet: y (the vector conditioning) must be [" + std::to_string(batch) + ", " +
                                         std::to_string(config_.adm_in_channels) + "], got " +
                                         (y.defined() ? shapeText(y) : std::string("nothing")));
    }
  } else if (y.defined()) {
    fail(ErrorCode::InvalidArgument, "UNet: y was given but this model has no vector conditioning (adm_in_channels 0)");
  }

  if (hook) hook("t_emb", nn::timestepEmbedding(timesteps, config_.model_channels));
  const at::Tensor emb = embedTimesteps(timesteps, y);  // [N, 4·model_channels]
  if (hook) hook("emb", emb);

  const at::Tensor cond = context.to(x.scalar_type());
  const bool checkpointing = gradient_checkpointing_ && at::GradMode::is_enabled();
  auto run = [&](UNetBlock& block, size_t body, const at::Tensor& input) {
    return checkpointing ? training::checkpointed(checkpoint_bodies_[body], {input, emb, cond}) : block(input, emb, cond);
  };
  std::vector<at::Tensor> skips;
  at::Tensor h = x;
  for (size_t i = 0; i < input_block_list_.size(); ++i) {
    h = run(input_block_list_[i], i, h);
    skips.push_back(h);
    if (hook) hook("input_blocks." + std::to_string(i), h);
  }
  h = run(middle_block, input_block_list_.size(), h);
  if (hook) hook("middle_block", h);
  for (size_t i = 0; i < output_block_list_.size(); ++i) {
    h = at::cat({h, skips.back()}, 1);  // [N, C + C_skip, H, W]
    skips.pop_back();
    h = run(output_block_list_[i], input_block_list_.size() + 1 + i, h);
    if (hook) hook("output_blocks." + std::to_string(i), h);
  }
  return out_conv(at::silu(nn::groupNormFloat32(out_norm, h)));
}

}  // namespace gesso::models
