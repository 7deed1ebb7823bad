// Checkpoint conversion (`gesso-cli convert`, the Models view's Convert): a PyTorch .ckpt/.pt read without executing
// anything, a .safetensors file or a diffusers folder, rewritten as one LDM-layout .safetensors file or as a diffusers
// folder. Both are written under a temporary name and renamed into place, so a failure leaves no partial output.
#pragma once

#include <cstddef>
#include <string>

namespace gesso::io {

enum class ConvertLayout { Ldm, Diffusers };

struct ConvertOptions {
  std::string input;     // .ckpt/.pt/.pth/.bin file, .safetensors file or diffusers folder
  std::string output;    // a .safetensors file (Ldm) or a new folder (Diffusers)
  std::string dtype;     // fp16, bf16 or fp32; empty keeps each tensor's type
  ConvertLayout layout = ConvertLayout::Ldm;
  std::string config;    // Diffusers: a config file laid over the checkpoint's own (as `info --config`)
  bool prune_ema = false;  // drop model_ema.* tensors
  std::string vae;  // bake this VAE in: it replaces every first_stage_model.* tensor (any file `generate --vae` reads)
};

struct ConvertResult {
  size_t tensors_written = 0;
  size_t ema_tensors_dropped = 0;
};

// Throws GessoError: InvalidArgument when the output exists and is the input (or, for a diffusers folder, exists at
// all) or --dtype is unknown; the reader's errors for a damaged or forbidden input (naming the file); MissingKey /
// UnexpectedKey when a diffusers export lacks a UNet or meets a tensor it has no place for.
ConvertResult convertCheckpoint(const ConvertOptions& options);

// The .safetensors file the app converts a pickle checkpoint into: the same folder and name (MODEL.ckpt →
// MODEL.safetensors), so a MODEL.yaml beside it still applies.
std::string convertedCheckpointPath(const std::string& pickle_path);

}  // namespace gesso::io
