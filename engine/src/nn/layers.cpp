// Leaf layers over ATen's functional ops; see layers.h.
#include "gesso/nn/layers.h"

#include "gesso/nn/flop_counter.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace gesso::nn {

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, const torch::TensorOptions& options, bool with_bias) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}, options));
  if (with_bias) bias = register_parameter("bias", torch::empty({out_features}, options));
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  FlopCounter::add(2.0 * static_cast<double>(x.numel()) * static_cast<double>(weight.size(0)));
  at::Tensor y = at::linear(x, weight, bias);
  if (adapters.empty()) return y;
  return addLinearAdapters(x, y, adapters);
}

namespace {

// The adapter's rows placed among `total` output features (last dim) or channels (dim 1).
at::Tensor placeRows(const at::Tensor& delta, int64_t offset, int64_t total, int64_t dim) {
  const int64_t rows = delta.size(dim);
  if (offset == 0 && rows == total) return delta;
  std::vector<int64_t> pad(2 * (delta.dim() - dim), 0);  // constant_pad_nd pads from the last dim backwards
  pad[pad.size() - 2] = offset;
  pad[pad.size() - 1] = total - offset - rows;
  return at::constant_pad_nd(delta, pad, 0);
}

at::Tensor inDtype(const at::Tensor& t, const at::Tensor& like) {
  return t.scalar_type() == like.scalar_type() ? t : t.to(like.scalar_type());
}

}  // namespace

at::Tensor addLinearAdapters(const at::Tensor& x, const at::Tensor& y, const std::vector<LowRankAdapter>& adapters) {
  at::Tensor out = y;
  for (const LowRankAdapter& adapter : adapters) {
    const at::Tensor hidden = at::linear(x, inDtype(adapter.down, x));          // [..., rank]
    const at::Tensor delta = at::linear(hidden, inDtype(adapter.up, x)) * adapter.scale;  // [..., rows]
    out = out + placeRows(delta, adapter.row_offset, y.size(-1), y.dim() - 1);
  }
  return out;
}

Conv2dImpl::Conv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                       const torch::TensorOptions& options, int64_t stride_, int64_t padding_)
    : stride(stride_), padding(padding_) {
  weight = register_parameter("weight", torch::empty({out_channels, in_channels, kernel_size, kernel_size}, options));
  bias = register_parameter("bias", torch::empty({out_channels}, options));
}

torch::Tensor Conv2dImpl::forward(const torch::Tensor& x) {
  at::Tensor y = at::conv2d(x, weight, bias, {stride, stride}, {padding, padding});
  // 2 · output elements · (input channels · k · k) multiply-adds.
  FlopCounter::add(2.0 * static_cast<double>(y.numel()) * static_cast<double>(weight.numel() / weight.size(0)));
  for (const LowRankAdapter& adapter : adapters) {
    const at::Tensor hidden = at::conv2d(x, inDtype(adapter.down, x), {}, {stride, stride}, {padding, padding});  // [N, rank, H', W']
    const at::Tensor delta = at::conv2d(hidden, inDtype(adapter.up, x)) * adapter.scale;                         // [N, rows, H', W']
    y = y + placeRows(delta, adapter.row_offset, y.size(1), 1);
  }
  return y;
}

GroupNormImpl::GroupNormImpl(int64_t groups_, int64_t channels, const torch::TensorOptions& options, double eps_)
    : groups(groups_), eps(eps_) {
  weight = register_parameter("weight", torch::empty({channels}, options));
  bias = register_parameter("bias", torch::empty({channels}, options));
}

torch::Tensor GroupNormImpl::forward(const torch::Tensor& x) { return at::group_norm(x, groups, weight, bias, eps); }

LayerNormImpl::LayerNormImpl(int64_t width, const torch::TensorOptions& options, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::empty({width}, options));
  bias = register_parameter("bias", torch::empty({width}, options));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) {
  return at::layer_norm(x, {weight.size(0)}, weight, bias, eps);
}

EmbeddingImpl::EmbeddingImpl(int64_t count, int64_t width, const torch::TensorOptions& options) {
  weight = register_parameter("weight", torch::empty({count, width}, options));
}

torch::Tensor EmbeddingImpl::forward(const torch::Tensor& ids) { return at::embedding(weight, ids); }

namespace {

void fillParameter(torch::Tensor& parameter, bool is_norm, bool is_bias, at::Generator& generator) {
  if (parameter.device().is_meta()) return;
  torch::NoGradGuard no_grad;
  auto normal = at::normal(0.0, 1.0, parameter.sizes(), generator, parameter.options().dtype(at::kFloat));
  if (is_bias) {
    normal.mul_(0.05);
  } else if (is_norm) {
    normal.mul_(0.1).add_(1.0);
  } else {
    const int64_t fan_in = parameter.dim() > 1 ? parameter.numel() / parameter.size(0) : parameter.numel();
    normal.div_(std::sqrt(static_cast<double>(fan_in)));
  }
  parameter.copy_(normal);
}

}  // namespace

void fillRandomWeights(torch::nn::Module& module, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& child : module.modules(/*include_self=*/true)) {
    const bool is_norm = dynamic_cast<GroupNormImpl*>(child.get()) || dynamic_cast<LayerNormImpl*>(child.get());
    for (auto& item : child->named_parameters(/*recurse=*/false)) {
      fillParameter(item.value(), is_norm, item.key() == "bias", generator);
    }
  }
}

}  // namespace gesso::nn
