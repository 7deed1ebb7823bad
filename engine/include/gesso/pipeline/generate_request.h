// What one generation job asks for (txt2img, img2img, inpaint, hires fix), as a plain struct, and its JSON form:
// the `gesso` PNG chunk that lets an image be reproduced exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gesso::pipeline {

// A LoRA file applied to the model at a strength (both the UNet and the text encoders).
struct LoraRef {
  std::string path;
  double strength = 1.0;
  bool operator==(const LoraRef& other) const { return path == other.path && strength == other.strength; }
};

struct GenerateRequest {
  // Model files.
  std::string model;      // .safetensors checkpoint or diffusers folder
  std::string config;     // optional config file (YAML / JSON); empty: detected and the files beside the model
  std::string vae;        // optional standalone VAE
  std::string tokenizer;  // optional bpe_simple_vocab_16e6.txt.gz or HF tokenizer folder (see findTokenizer)

  std::string prompt;
  std::string negative_prompt;
  std::string sampler = "euler";     // ComfyUI name (diffusion::samplerNames())
  std::string scheduler = "normal";  // ComfyUI name (diffusion::schedulerNames())
  int steps = 20;
  double cfg_scale = 7.0;
  double cfg_rescale = 0.0;
  int64_t seed = -1;  // -1: a random seed is picked and recorded in the result
  int width = 512;
  int height = 512;
  int batch_size = 1;   // images denoised together (one noise draw over the whole batch, as ComfyUI)
  // Batches run one after another; batch i uses seed + i for its whole batch (ComfyUI's one draw per batch, its
  // "increment" between runs). A1111 differs: image j of batch i gets seed + i·batch_size + j and its own draw.
  int batch_count = 1;
  std::optional<double> eta;  // unset: the sampler's default
  double s_noise = 1.0;
  int clip_skip = 0;  // 0: the model's default layer; N >= 1: the N-th layer from the end
  // Sample over the DDPM schedule rescaled to zero terminal SNR (Lin et al. 2023, "Common Diffusion Noise Schedules
  // and Sample Steps are Flawed"), for models trained that way, as ComfyUI's ModelSamplingDiscrete "zsnr".
  bool zero_terminal_snr = false;

  // img2img / inpaint.
  std::string init_image;
  double strength = 0.75;  // denoising strength for init_image
  std::string mask;        // white = repaint

  // Hires fix: a second img2img pass on the latent upscaled by hires_scale (> 1 enables it).
  double hires_scale = 1.0;
  double hires_strength = 0.7;
  int hires_steps = 0;  // 0: `steps`

  int preview_every = 0;  // 0: no previews

  // LoRAs merged into the weights for this request, besides those the prompt names with <lora:NAME:w> (looked up as
  // NAME.safetensors in lora_dir, then in its subfolders).
  std::vector<LoraRef> loras;
  std::string lora_dir;

  std::string device = "cpu";
  std::string precision = "fp32";  // fp32 or bf16 (fp16 on CUDA)

  // SDXL size conditioning in pixels; 0 means the image's own size (sizes) or 0 (crop).
  int original_width = 0;
  int original_height = 0;
  int crop_left = 0;
  int crop_top = 0;
  int target_width = 0;
  int target_height = 0;

  bool operator==(const GenerateRequest& other) const;
  bool operator!=(const GenerateRequest& other) const { return !(*this == other); }
};

// Every field, stable key order. Doubles are written in their shortest exact form, so
// requestFromJson(requestToJson(r)) == r.
std::string requestToJson(const GenerateRequest& request, int indent = -1);
// Fields absent from the JSON keep their defaults; unknown keys fail (a typo must not be ignored), as do values of
// the wrong type: GessoError(InvalidArgument) naming the field.
GenerateRequest requestFromJson(const std::string& json_text);

// Checks ranges (steps >= 1, sizes multiples of 8, strengths in [0, 1], known sampler and scheduler names, ...).
// Throws GessoError(InvalidArgument) naming the field.
void validateRequest(const GenerateRequest& request);

}  // namespace gesso::pipeline
