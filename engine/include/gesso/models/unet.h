// sgm's openaimodel.UNetModel (the Stable Diffusion 1.x/2.x/XL denoiser) as LibTorch modules whose parameter names
// are the checkpoint keys minus `model.diffusion_model.`. No dropout; blocks can be gradient-checkpointed for training.
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/nn/attention.h"
#include "gesso/nn/layers.h"
#include "gesso/nn/spatial_transformer.h"
#include "gesso/nn/unet_blocks.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gesso::models {

// Receives "t_emb", "emb", then every block's output ("input_blocks.3", "middle_block", "output_blocks.0", ...)
// during a forward pass; for debugging and parity tests.
using UNetBlockHook = std::function<void(const std::string& name, const at::Tensor& output)>;

// sgm TimestepEmbedSequential: numbered layers that each take what they need of (x, emb, context).
struct UNetBlockImpl : torch::nn::Module {
  using Step = std::function<at::Tensor(const at::Tensor& x, const at::Tensor& emb, const at::Tensor& context)>;

  // Each registers the layer under the next number and runs it with the arguments its type takes.
  void append(nn::Conv2d layer);
  void append(nn::ResBlock layer);
  void append(nn::SpatialTransformer layer);
  void append(nn::Downsample layer);
  void append(nn::Upsample layer);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& emb, const at::Tensor& context);

  std::vector<Step> steps;
};
TORCH_MODULE(UNetBlock);

struct UNetImpl : torch::nn::Module {
  UNetImpl(const UNetConfig& config, const torch::TensorOptions& options);

  // x [N, in_channels, H, W] (H and W divisible by 2^(levels-1)), timesteps [N] (float or integer),
  // context [N, M, context_dim], y [N, adm_in_channels] when adm_in_channels > 0 -> [N, out_channels, H, W].
  at::Tensor forward(const at::Tensor& x, const at::Tensor& timesteps, const at::Tensor& context,
                     const at::Tensor& y = {}, const UNetBlockHook& hook = {});

  // time_embed(timestep_embedding(timesteps)) (+ label_emb(y)): [N, 4·model_channels].
  at::Tensor embedTimesteps(const at::Tensor& timesteps, const at::Tensor& y = {});

  // Applies to every attention layer (the default: the fused kernel where available, 256 MiB score chunks otherwise).
  void setAttentionOptions(const nn::AttentionOptions& options);
  // Training: each block's activations are recomputed in backward instead of kept (only while grad mode is on).
  void setGradientCheckpointing(bool enabled);

  const UNetConfig& config() const { return config_; }

  nn::Linear time_embed_in{nullptr};    // time_embed.0 (1: SiLU)
  nn::Linear time_embed_out{nullptr};   // time_embed.2
  nn::Linear label_emb_in{nullptr};     // label_emb.0.0 (label_emb.0.1: SiLU)
  nn::Linear label_emb_out{nullptr};    // label_emb.0.2
  torch::nn::ModuleList input_blocks;
  UNetBlock middle_block{nullptr};
  torch::nn::ModuleList output_blocks;
  nn::GroupNorm out_norm{nullptr};      // out.0 (1: SiLU)
  nn::Conv2d out_conv{nullptr};         // out.2

 private:
  UNetConfig config_;
  std::vector<UNetBlock> input_block_list_;
  std::vector<UNetBlock> output_block_list_;
  std::vector<nn::SpatialTransformer> transformers_;
  bool gradient_checkpointing_ = false;
  // One body per block (input blocks, middle, output blocks); they must outlive backward, so they live here.
  std::vector<std::function<at::Tensor(const std::vector<at::Tensor>&)>> checkpoint_bodies_;
};
TORCH_MODULE(UNet);

}  // namespace gesso::models
