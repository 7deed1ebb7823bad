// The VAE decode of a finished batch, guarded against NaN/inf output: such an image would be saved black. A
// half-precision VAE is tried once more in float32 (A1111's --no-half-vae fallback); otherwise the cause is named.
#pragma once

#include "gesso/models/autoencoder_kl.h"

#include <ATen/core/Tensor.h>

#include <string>

namespace gesso::pipeline {

// Decodes `latents` [B, C, h, w] (already divided by the scale factor; any float dtype and device) to float32
// [B, 3, H, W]. When the output holds NaN or infinite values: a VAE whose weights are fp16/bf16 is converted to
// float32 for one more decode (and back afterwards); if that is finite it is returned. Otherwise throws GessoError
// with `what` (e.g. "batch 2") and the cause: InvalidFormat naming the first VAE (or `unet`) weight that holds
// NaN/inf, else Internal saying whether the latents were already non-finite before the VAE (the UNet or sampler made
// them) or the VAE overflowed on finite latents.
at::Tensor decodeLatentsChecked(models::AutoencoderKL& vae, const at::Tensor& latents, const std::string& what,
                                torch::nn::Module* unet = nullptr);

}  // namespace gesso::pipeline
