// Leaf layers whose parameters are created with the caller's TensorOptions (dtype and device, including
// the meta device), so a full-size network can be built from shapes alone and weights come from a checkpoint.
// Parameter names are those of torch.nn (weight, bias), which the reference checkpoint keys use.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace gesso::nn {

// A low-rank adapter (LoRA, Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") on a layer's
// output: y += scale · up(down(x)). For a Conv2d, down is a conv with the layer's kernel, stride and padding and up a
// 1×1 conv (kohya's LoCon). The tensors are not registered parameters, so checkpoints and state dicts never see them.
struct LowRankAdapter {
  at::Tensor down;  // Linear: [rank, in]; Conv2d: [rank, in, k, k]
  at::Tensor up;    // Linear: [rows, rank]; Conv2d: [rows, rank, 1, 1]
  double scale = 1.0;
  int64_t row_offset = 0;  // the first output feature/channel it adds to (a q/k/v slice of a fused projection)
};

// y + Σ scale · up(down(x)) over the adapters, for a linear map x [..., in] -> y [..., out]; y itself when empty.
// The adapters run in x's dtype.
at::Tensor addLinearAdapters(const at::Tensor& x, const at::Tensor& y, const std::vector<LowRankAdapter>& adapters);

struct LinearImpl : torch::nn::Module {
  LinearImpl(int64_t in_features, int64_t out_features, const torch::TensorOptions& options, bool with_bias = true);
  torch::Tensor forward(const torch::Tensor& x);  // [..., in] -> [..., out]

  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out] or undefined
  std::vector<LowRankAdapter> adapters;  // usually empty (no cost then)
};
TORCH_MODULE(Linear);

struct Conv2dImpl : torch::nn::Module {
  Conv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size, const torch::TensorOptions& options,
             int64_t stride = 1, int64_t padding = 0);
  torch::Tensor forward(const torch::Tensor& x);  // [N, in, H, W] -> [N, out, H', W']

  torch::Tensor weight;  // [out, in, k, k]
  torch::Tensor bias;    // [out]
  int64_t stride = 1;
  int64_t padding = 0;
  std::vector<LowRankAdapter> adapters;  // usually empty (no cost then)
};
TORCH_MODULE(Conv2d);

struct GroupNormImpl : torch::nn::Module {
  GroupNormImpl(int64_t groups, int64_t channels, const torch::TensorOptions& options, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;
  torch::Tensor bias;
  int64_t groups = 32;
  double eps = 1e-5;
};
TORCH_MODULE(GroupNorm);

struct LayerNormImpl : torch::nn::Module {
  LayerNormImpl(int64_t width, const torch::TensorOptions& options, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;
  torch::Tensor bias;
  double eps = 1e-5;
};
TORCH_MODULE(LayerNorm);

struct EmbeddingImpl : torch::nn::Module {
  EmbeddingImpl(int64_t count, int64_t width, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& ids);  // [...] int64 -> [..., width]

  torch::Tensor weight;  // [count, width]
};
TORCH_MODULE(Embedding);

// Fills every parameter of a module with the reference goldens' scheme (Linear/Conv: N(0,1)/sqrt(fan_in),
// biases 0.05·N(0,1); norms: weight 1+0.1·N, bias 0.05·N) from a seeded generator: for benchmarks and
// tests that need non-trivial random weights. Parameters on the meta device are left alone.
void fillRandomWeights(torch::nn::Module& module, uint64_t seed);

}  // namespace gesso::nn
