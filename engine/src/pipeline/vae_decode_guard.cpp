// See vae_decode_guard.h: NaN/inf VAE output is retried in float32 once (half-precision VAEs) or refused with its cause.
#include "gesso/pipeline/vae_decode_guard.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <optional>
#include <sstream>

namespace gesso::pipeline {

namespace {

bool allFinite(const at::Tensor& tensor) { return at::isfinite(tensor).all().item<bool>(); }

// The share of non-finite values, for the message ("12.5% of the values").
double nonFiniteShare(const at::Tensor& tensor) {
  return 100.0 * (~at::isfinite(tensor)).sum().item<double>() / static_cast<double>(std::max<int64_t>(1, tensor.numel()));
}

// The first parameter of `module` holding NaN or inf.
std::optional<std::string> firstNonFiniteWeight(torch::nn::Module& module) {
  for (const auto& item : module.named_parameters()) {
    if (!allFinite(item.value())) return item.key();
  }
  return std::nullopt;
}

at::Tensor decodeIn(models::AutoencoderKL& vae, const at::Tensor& latents) {
  const at::Tensor& weight = vae->post_quant_conv->weight;
  return vae->decode(latents.to(weight.device(), weight.scalar_type())).to(at::kFloat);  // [B, 3, H, W]
}

}  // namespace

at::Tensor decodeLatentsChecked(models::AutoencoderKL& vae, const at::Tensor& latents, const std::string& what,
                                torch::nn::Module* unet) {
  at::Tensor decoded = decodeIn(vae, latents);
  if (allFinite(decoded)) return decoded;
  const double share = nonFiniteShare(decoded);

  const c10::ScalarType dtype = vae->post_quant_conv->weight.scalar_type();
  if (dtype != at::kFloat && allFinite(latents)) {
    // A1111's fallback: the same decode in float32 (the VAE converted for this call only).
    vae->to(at::kFloat);
    try {
      decoded = decodeIn(vae, latents);
    } catch (...) {
      vae->to(dtype);
      throw;
    }
    vae->to(dtype);
    if (allFinite(decoded)) return decoded;
  }

  std::ostringstream detail;
  detail << "the VAE decoded NaN or infinite values for " << what << " (" << share << "% of the pixels)";
  if (dtype != at::kFloat) detail << ", in " << dtype << " and again in float32";
  if (auto name = firstNonFiniteWeight(*vae)) {
    fail(ErrorCode::InvalidFormat, detail.str() + ": the VAE weight '" + *name +
                                       "' holds NaN or inf (a damaged VAE; load another with --vae)");
  }
  if (!allFinite(latents)) {
    if (unet) {
      if (auto name = firstNonFiniteWeight(*unet)) {
        fail(ErrorCode::InvalidFormat, detail.str() + ": the latents were already NaN or inf before the VAE, and the UNet "
                                                      "weight '" + *name + "' holds NaN or inf (a damaged checkpoint)");
      }
    }
    fail(ErrorCode::Internal, detail.str() + ": the latents were already NaN or inf before the VAE (the UNet or the "
                                             "sampler overflowed; try --precision fp32, fewer steps or another sampler)");
  }
  fail(ErrorCode::Internal, detail.str() + " from finite latents: the VAE overflowed (its weights are finite)");
}

}  // namespace gesso::pipeline
