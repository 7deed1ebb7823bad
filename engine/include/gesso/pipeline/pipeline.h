// Prompt -> image: a loaded model (networks, config and tokenizer, loaded once and reused across requests) and
// generate(), which runs txt2img, img2img, inpainting and the hires fix with ComfyUI-compatible seeds, per-step
// callbacks, cheap latent previews and cancellation. Writing files is in pipeline/output.h.
#pragma once

#include "gesso/cancel_token.h"
#include "gesso/image/image.h"
#include "gesso/io/checkpoint.h"
#include "gesso/lora/lora_file.h"
#include "gesso/models/autoencoder_kl.h"
#include "gesso/models/clip_text.h"
#include "gesso/models/model_config.h"
#include "gesso/models/tokenizer.h"
#include "gesso/models/unet.h"
#include "gesso/pipeline/generate_request.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gesso::pipeline {

// The CLIP vocabulary to use, in this order: `explicit_path` (the request's tokenizer), a diffusers folder's
// tokenizer/ (when `model_path` is a folder), $GESSO_TOKENIZER, then clip/bpe_simple_vocab_16e6.txt.gz under
// $XDG_DATA_HOME/gesso (default ~/.local/share/gesso), /usr/local/share/gesso and /usr/share/gesso.
// Throws GessoError(FileNotFound) listing every place looked at.
std::string findTokenizer(const std::string& explicit_path, const std::string& model_path);

struct ModelLoadOptions {
  std::string model;
  std::string config;
  std::string vae;
  std::string tokenizer;
  std::string device = "cpu";
  std::string precision = "fp32";

  static ModelLoadOptions fromRequest(const GenerateRequest& request);
  bool operator==(const ModelLoadOptions& other) const;
};

// A checkpoint's networks with their weights, its config and the tokenizer.
class LoadedModel {
 public:
  // Throws GessoError naming the file, key or field.
  static std::shared_ptr<LoadedModel> load(const ModelLoadOptions& options);
  // Networks built elsewhere (training: random init, or weights being trained), generated from as they are.
  // `options` is what requests must name (generate() compares them); `options.model` may name no file.
  static std::shared_ptr<LoadedModel> fromNetworks(const ModelLoadOptions& options, const ModelConfig& config,
                                                   models::UNet unet, models::AutoencoderKL vae,
                                                   std::vector<models::TextEncoder> text_encoders,
                                                   std::shared_ptr<models::ClipTokenizer> tokenizer);

  const ModelLoadOptions& options() const { return options_; }
  const ModelConfig& config() const { return config_; }
  const std::string& configSource() const { return config_source_; }
  // AUTOMATIC1111's short model hash: the first 10 hex digits of the checkpoint file's SHA-256 (computed once, on
  // first use; empty for a diffusers folder).
  const std::string& shortHash();
  // The checkpoint's name as A1111 shows it: the file name without extension.
  std::string displayName() const;

  models::UNet unet{nullptr};
  models::AutoencoderKL vae{nullptr};
  std::vector<models::TextEncoder> text_encoders;
  std::shared_ptr<models::ClipTokenizer> tokenizer;
  c10::Device device{c10::kCPU};
  c10::ScalarType dtype = c10::kFloat;
  // The LoRAs merged into the weights now (generate() applies each request's set, re-merging only when it changes).
  lora::LoraMerger loras;

 private:
  ModelLoadOptions options_;
  ModelConfig config_;
  std::string config_source_;
  std::string short_hash_;
  bool hashed_ = false;
};

// What a step reports. `x` and `denoised` are latents in the sampler's space (scaled by scale_factor).
struct StepEvent {
  int batch_index = 0;  // which batch of batch_count
  int pass = 0;         // 0: the first pass, 1: the hires pass
  int step = 0;         // 0-based, within the pass
  int total_steps = 0;  // of the pass
  double sigma = 0;
  at::Tensor x;         // [B, 4, h, w]
  at::Tensor denoised;  // [B, 4, h, w]
};

struct PreviewEvent {
  int batch_index = 0;
  int pass = 0;
  int step = 0;
  std::vector<image::Image> images;  // one per image of the batch, latent-sized (h×w)
};

struct GeneratedImage;

struct GenerateCallbacks {
  std::function<void(const StepEvent&)> on_step;
  std::function<void(const PreviewEvent&)> on_preview;  // every request.preview_every steps (and the last)
  const CancelToken* cancel = nullptr;  // checked before every network call; cancelled: GessoError(Cancelled)
  // After each batch is decoded, with its images (before the next batch starts): lets a caller save finished work
  // while later batches run. They are also returned in the result.
  std::function<void(const std::vector<GeneratedImage>& batch)> on_batch;
};

struct GeneratedImage {
  image::Image image;
  int batch_index = 0;     // 0 .. batch_count-1
  int index_in_batch = 0;  // 0 .. batch_size-1
  int64_t seed = 0;        // the batch's seed: request seed + batch_index
};

struct GenerateResult {
  GenerateRequest request;  // as run: the seed resolved (never -1)
  std::vector<GeneratedImage> images;  // in batch order
  std::string lora_hashes;  // A1111's "Lora hashes" infotext value ("name: hash12, ..."); empty without LoRAs
};

// The LoRA set of a request: request.loras (named by their file stem, one strength for UNet and text encoders), then
// the prompt's <lora:NAME:TE[:UNET[:DYN]]> tags, NAME.safetensors found in request.lora_dir (or, failing that, the
// first file of that name in its subfolders, in path order). Throws FileNotFound naming the tag and the folder, and
// InvalidArgument for a tag without a lora_dir.
std::vector<lora::LoraApplication> resolveLoras(const GenerateRequest& request);

// Runs the request with `model` (which must have been loaded from the request's model/config/vae/tokenizer).
// Seeds: batch i (of batch_count) uses seed + i; its initial noise is at::randn([batch_size, 4, H/8, W/8]) in
// float32 from a CPU generator seeded with that seed (ComfyUI's prepare_noise), the sampler's fresh noise comes from
// a second CPU generator seeded with the same seed. Throws GessoError (Cancelled when the token is set).
GenerateResult generate(LoadedModel& model, const GenerateRequest& request, const GenerateCallbacks& callbacks = {});

// The first pass's sampling schedule of a request before any img2img entry: its scheduler's `steps` + 1 descending
// sigmas over the model's training schedule (rescaled to zero terminal SNR when the request asks), as generate() uses.
at::Tensor requestSigmas(const LoadedModel& model, const GenerateRequest& request);

// A start other than noise, for forks (pipeline/fork.h): the first pass of the request (batch_count 1) continues from
// `x` [batch_size, C, h, w] (sampler space, at noise level sigmas[0]) over `sigmas` (float, descending, ending in 0)
// instead of drawing noise and computing its schedule; inpainting still blends with the request's mask, and a hires
// pass runs after it as the request asks.
struct LatentStart {
  at::Tensor x;
  at::Tensor sigmas;
};
GenerateResult generateFrom(LoadedModel& model, const GenerateRequest& request, const LatentStart& start,
                            const GenerateCallbacks& callbacks = {});

// The initial noise for a batch: float32 CPU randn of `shape` from a generator seeded with `seed`.
at::Tensor initialNoise(uint64_t seed, const std::vector<int64_t>& shape);

// A1111's img2img start (sd_samplers_common.setup_img2img_steps without "img2img_fix_steps"): t_enc =
// int(min(strength, 0.999) * steps) and the schedule computed for `steps` is entered at index steps - t_enc - 1, so
// t_enc + 1 steps run (strength 1 runs the whole schedule). ComfyUI differs: it computes int(steps / strength) steps
// and runs the last `steps` of them. Returns the index.
// Other choices, as A1111 makes them: txt2img starts from noise · σ_max (ComfyUI scales by √(1 + σ_max²) instead);
// the hires fix upscales the latent bilinearly (A1111's default upscaler "Latent") and draws its noise again from the
// batch's seed; inpainting blends latents with the mask resized bilinearly to the latent (ComfyUI's
// KSamplerX0Inpaint: the kept region re-noised before each call and restored in the estimate), and 9-channel models
// also get [rounded mask, VAE mean of image·(1 − mask)]; VAE encodings use the distribution's mean.
int img2imgStartIndex(int steps, double strength);

// The linear latent -> RGB preview of scaled latents [B, 4, h, w] for a family (SD1/SD2 or SDXL factors): [B, 3, h, w]
// in [-1, 1]; and as images.
at::Tensor latentPreview(const at::Tensor& latent, ModelFamily family);
std::vector<image::Image> latentPreviewImages(const at::Tensor& latent, ModelFamily family);

}  // namespace gesso::pipeline
