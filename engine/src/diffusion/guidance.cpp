// Classifier-free guidance in one batched network call, and ComfyUI-style CFG rescale in v-space.
#include "gesso/diffusion/guidance.h"

#include "diffusion/tensor_shapes.h"
#include "gesso/error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace gesso::diffusion {
namespace {

// A conditioning tensor with batch `batch`: batch 1 is repeated, any other batch must match.
at::Tensor matchBatch(const at::Tensor& t, int64_t batch, const char* what) {
  if (!t.defined() || t.size(0) == batch) return t;
  if (t.dim() >= 1 && t.size(0) == 1) {
    std::vector<int64_t> sizes = t.sizes().vec();
    sizes[0] = batch;
    return t.expand(sizes);  // [B, ...]
  }
  fail(ErrorCode::ShapeMismatch, std::string("guidance: ") + what + " has batch " + std::to_string(t.size(0)) +
                                     " but the latent has batch " + std::to_string(batch));
}

// cat([uncond, cond]) of one conditioning field, both present or both absent.
at::Tensor stackHalves(const at::Tensor& uncond, const at::Tensor& cond, int64_t batch, const char* what) {
  if (uncond.defined() != cond.defined()) {
    fail(ErrorCode::InvalidArgument,
         std::string("guidance: ") + what + " is given for " +
             (cond.defined() ? "the prompt but not the negative prompt" : "the negative prompt but not the prompt"));
  }
  if (!cond.defined()) return {};
  const at::Tensor u = matchBatch(uncond, batch, what), c = matchBatch(cond, batch, what);
  if (u.sizes().slice(1) != c.sizes().slice(1)) {
    fail(ErrorCode::ShapeMismatch, std::string("guidance: ") + what + " of the negative prompt is " +
                                       shapeText(uncond) + " but the prompt's is " + shapeText(cond) +
                                       (std::string(what) == "crossattn"
                                            ? " (different token counts: the prompt encoder must pad both to the same "
                                              "number of 77-token windows)"
                                            : ""));
  }
  return at::cat({u, c}, 0);  // [2B, ...]
}

}  // namespace

at::Tensor combineGuidance(const at::Tensor& uncond_denoised, const at::Tensor& cond_denoised, double cfg_scale) {
  return uncond_denoised + (cond_denoised - uncond_denoised) * cfg_scale;
}

at::Tensor rescaleGuidance(const at::Tensor& guided_denoised, const at::Tensor& cond_denoised, const at::Tensor& x,
                           const at::Tensor& sigma, double rescale) {
  if (rescale == 0) return guided_denoised;
  if (guided_denoised.sizes() != cond_denoised.sizes() || guided_denoised.sizes() != x.sizes() || x.dim() < 2) {
    fail(ErrorCode::ShapeMismatch, "rescaleGuidance: guided " + shapeText(guided_denoised) + ", cond " +
                                       shapeText(cond_denoised) + " and x " + shapeText(x) + " must agree");
  }
  if (!sigma.defined() || sigma.dim() != 1 || sigma.size(0) != x.size(0)) {
    fail(ErrorCode::ShapeMismatch,
         "rescaleGuidance: sigma must be [" + std::to_string(x.size(0)) + "], got " + shapeText(sigma));
  }
  const int64_t dims = x.dim();
  const at::Tensor s = appendDims(sigma.to(x.options()), dims);  // [B, 1, 1, 1]
  const at::Tensor total_variance = s * s + 1;                   // σ² + 1
  const at::Tensor x_skip = x / total_variance;                  // c_skip·x of v-prediction
  const at::Tensor v_scale = total_variance.sqrt() / s;          // −1/c_out of v-prediction
  const at::Tensor v_cond = (x_skip - cond_denoised) * v_scale;
  const at::Tensor v_guided = (x_skip - guided_denoised) * v_scale;

  std::vector<int64_t> reduce_dims;
  for (int64_t d = 1; d < dims; ++d) reduce_dims.push_back(d);
  const at::Tensor std_cond = v_cond.std(reduce_dims, /*unbiased=*/true, /*keepdim=*/true);
  const at::Tensor std_guided = v_guided.std(reduce_dims, /*unbiased=*/true, /*keepdim=*/true);
  const at::Tensor v_rescaled = v_guided * (std_cond / std_guided);
  const at::Tensor v_final = v_rescaled * rescale + v_guided * (1 - rescale);
  const at::Tensor rescaled = x_skip - v_final / v_scale;
  // σ = 0 has no v; a zero spread cannot be matched.
  const at::Tensor usable = (s > 0).logical_and(std_guided > 0);  // [B, 1, 1, 1]
  return at::where(usable, rescaled, guided_denoised);
}

GuidedDenoiser::GuidedDenoiser(Denoiser denoiser, Conditioning cond, Conditioning uncond, GuidanceOptions options)
    : denoiser_(std::move(denoiser)), cond_(std::move(cond)), uncond_(std::move(uncond)), options_(options) {
  if (!std::isfinite(options_.cfg_scale)) fail(ErrorCode::InvalidArgument, "guidance: cfg_scale must be finite");
  if (!(options_.rescale >= 0 && options_.rescale <= 1)) {
    fail(ErrorCode::InvalidArgument, "guidance: rescale must lie in [0, 1], got " + std::to_string(options_.rescale));
  }
  if (!cond_.crossattn.defined()) fail(ErrorCode::InvalidArgument, "guidance: the prompt's crossattn is missing");
  if (!uncond_.concat.defined()) uncond_.concat = cond_.concat;
}

at::Tensor GuidedDenoiser::operator()(const at::Tensor& x, const at::Tensor& sigma) const {
  if (!x.defined() || x.dim() < 2)
    fail(ErrorCode::ShapeMismatch, "guidance: x must be [B, C, ...], got " + shapeText(x));
  const int64_t batch = x.size(0);
  if (!sigma.defined()) fail(ErrorCode::InvalidArgument, "guidance: sigma is undefined");
  const bool broadcast = sigma.dim() == 0 || (sigma.dim() == 1 && sigma.size(0) == 1);
  const at::Tensor sigma_batch = broadcast ? sigma.reshape({1}).expand({batch}) : sigma;  // [B]
  if (sigma_batch.dim() != 1 || sigma_batch.size(0) != batch) {
    fail(ErrorCode::ShapeMismatch,
         "guidance: sigma must be a scalar or [" + std::to_string(batch) + "], got " + shapeText(sigma));
  }
  if (options_.cfg_scale == 1.0) {
    Conditioning cond{matchBatch(cond_.crossattn, batch, "crossattn"), matchBatch(cond_.vector, batch, "vector"),
                      matchBatch(cond_.concat, batch, "concat")};
    return denoiser_(x, sigma_batch, cond);
  }
  Conditioning both;
  both.crossattn = stackHalves(uncond_.crossattn, cond_.crossattn, batch, "crossattn");
  both.vector = stackHalves(uncond_.vector, cond_.vector, batch, "vector");
  both.concat = stackHalves(uncond_.concat, cond_.concat, batch, "concat");
  const at::Tensor denoised = denoiser_(at::cat({x, x}, 0), at::cat({sigma_batch, sigma_batch}, 0), both);  // [2B, ...]
  const at::Tensor uncond_denoised = denoised.narrow(0, 0, batch), cond_denoised = denoised.narrow(0, batch, batch);
  const at::Tensor guided = combineGuidance(uncond_denoised, cond_denoised, options_.cfg_scale);
  return rescaleGuidance(guided, cond_denoised, x, sigma_batch, options_.rescale);
}

}  // namespace gesso::diffusion
