// Multi-head attention with a fused kernel or memory-bounded query chunks; see attention.h.
#include "gesso/nn/attention.h"

#include "gesso/error.h"
#include "gesso/nn/flop_counter.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>

#if TORCH_VERSION_MAJOR >= 2
#define GESSO_HAS_FUSED_ATTENTION 1
#else
#define GESSO_HAS_FUSED_ATTENTION 0
#endif

namespace gesso::nn {

namespace {

// [B, L, heads·D] -> [B·heads, L, D]
at::Tensor splitHeads(const at::Tensor& x, int64_t heads) {
  const int64_t batch = x.size(0), length = x.size(1), head_dim = x.size(2) / heads;
  return x.reshape({batch, length, heads, head_dim})  // [B, L, heads, D]
      .permute({0, 2, 1, 3})                          // [B, heads, L, D]
      .reshape({batch * heads, length, head_dim});    // [B·heads, L, D]
}

// [B·heads, L, D] -> [B, L, heads·D]
at::Tensor mergeHeads(const at::Tensor& x, int64_t heads) {
  const int64_t batch = x.size(0) / heads, length = x.size(1), head_dim = x.size(2);
  return x.reshape({batch, heads, length, head_dim})  // [B, heads, L, D]
      .permute({0, 2, 1, 3})                          // [B, L, heads, D]
      .reshape({batch, length, heads * head_dim});    // [B, L, heads·D]
}

at::Tensor chunkedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t budget_bytes) {
  // q [BH, N, D], k/v [BH, M, D]
  const int64_t batch_heads = q.size(0), queries = q.size(1), keys = k.size(1), head_dim = q.size(2);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  const at::Tensor keys_t = k.transpose(1, 2);  // [BH, D, M]
  // Scores and their softmax live together, hence two score tensors per chunk.
  const int64_t bytes_per_query = 2 * batch_heads * keys * static_cast<int64_t>(q.element_size());
  const int64_t chunk = std::clamp<int64_t>(budget_bytes / std::max<int64_t>(bytes_per_query, 1), 1, queries);
  // Half-precision scores are normalised in float32 so large logits cannot overflow the exponent sum.
  const bool reduced = q.scalar_type() == at::kHalf || q.scalar_type() == at::kBFloat16;
  auto scoresToOutput = [&](const at::Tensor& q_part) {
    at::Tensor scores = at::bmm(q_part, keys_t).mul_(scale);  // [BH, n, M]
    at::Tensor weights = reduced ? at::softmax(scores, -1, at::kFloat).to(q.scalar_type()) : at::softmax(scores, -1);
    return at::bmm(weights, v);  // [BH, n, D]
  };
  if (chunk >= queries) return scoresToOutput(q);
  at::Tensor out = at::empty({batch_heads, queries, v.size(2)}, v.options());  // [BH, N, D]
  for (int64_t start = 0; start < queries; start += chunk) {
    const int64_t length = std::min(chunk, queries - start);
    out.narrow(1, start, length).copy_(scoresToOutput(q.narrow(1, start, length)));
  }
  return out;
}

}  // namespace

bool fusedAttentionAvailable() { return GESSO_HAS_FUSED_ATTENTION != 0; }

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                     const AttentionOptions& options) {
  if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3) {
    fail(ErrorCode::ShapeMismatch, "attention: q, k and v must be [B, L, heads·D]");
  }
  if (heads < 1 || q.size(2) % heads != 0 || k.size(2) != q.size(2) || v.size(2) % heads != 0 ||
      k.size(1) != v.size(1) || k.size(0) != q.size(0) || v.size(0) != q.size(0)) {
    fail(ErrorCode::ShapeMismatch, "attention: q, k, v widths must be divisible by heads (" + std::to_string(heads) +
                                       ") and k, v must share batch and length");
  }
  // Q·Kᵀ and weights·V: two products of [N, D] by [D, M] per batch element and head.
  FlopCounter::add(4.0 * static_cast<double>(q.size(0)) * static_cast<double>(q.size(1)) *
                   static_cast<double>(k.size(1)) * static_cast<double>(q.size(2)));
#if GESSO_HAS_FUSED_ATTENTION
  if (options.method == AttentionMethod::Auto) {
    const int64_t batch = q.size(0);
    auto to4 = [&](const at::Tensor& x) {
      return x.reshape({batch, x.size(1), heads, x.size(2) / heads}).transpose(1, 2);  // [B, heads, L, D]
    };
    const at::Tensor out = at::scaled_dot_product_attention(to4(q), to4(k), to4(v));  // [B, heads, N, D]
    return out.transpose(1, 2).reshape({batch, q.size(1), v.size(2)});                 // [B, N, heads·D]
  }
#endif
  const at::Tensor out = chunkedAttention(splitHeads(q, heads), splitHeads(k, heads), splitHeads(v, heads),
                                          options.memory_budget_bytes);
  return mergeHeads(out, heads);
}

CrossAttentionImpl::CrossAttentionImpl(int64_t query_dim, int64_t context_dim, int64_t heads_, int64_t head_dim,
                                       const torch::TensorOptions& options)
    : heads(heads_) {
  const int64_t inner_dim = heads * head_dim;
  to_q = register_module("to_q", Linear(query_dim, inner_dim, options, /*with_bias=*/false));
  to_k = register_module("to_k", Linear(context_dim, inner_dim, options, /*with_bias=*/false));
  to_v = register_module("to_v", Linear(context_dim, inner_dim, options, /*with_bias=*/false));
  to_out = register_module("to_out", torch::nn::ModuleList());
  to_out_projection = Linear(inner_dim, query_dim, options);
  to_out->push_back(to_out_projection);  // 0: Linear; 1: Dropout
}

at::Tensor CrossAttentionImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  const at::Tensor& source = context.defined() ? context : x;
  const at::Tensor out = attention(to_q(x), to_k(source), to_v(source), heads, attention_options);
  return to_out_projection(out);
}

}  // namespace gesso::nn
