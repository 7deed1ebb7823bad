// generate(): conditioning, noise, the guided denoiser, sampling (txt2img / img2img / inpaint / hires) and decoding.
#include "gesso/pipeline/pipeline.h"

#include "gesso/runtime.h"

#include "gesso/diffusion/denoiser.h"
#include "gesso/diffusion/discretization.h"
#include "gesso/diffusion/guidance.h"
#include "gesso/diffusion/sampler.h"
#include "gesso/diffusion/schedulers.h"
#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/model_loader.h"
#include "gesso/models/sdxl_conditioning.h"
#include "gesso/pipeline/vae_decode_guard.h"
#include "gesso/prompt/emphasis.h"
#include "gesso/prompt/prompt_encoding.h"
#include "gesso/prompt/prompt_parser.h"
#include "gesso/runtime.h"
#include "gesso/util/sha256.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace gesso::pipeline {

namespace fs = std::filesystem;

namespace {

void checkCancel(const CancelToken* cancel) {
  if (cancel && cancel->isCancelled()) fail(ErrorCode::Cancelled, "the job was cancelled");
}

// The text conditioning of one prompt: context [1, T, D] and, for SDXL, the pooled output [1, P] of its first window.
struct EncodedText {
  at::Tensor context;
  at::Tensor pooled;
};

EncodedText encodeText(LoadedModel& model, const std::string& text, int clip_skip, const CancelToken* cancel) {
  const prompt::ParsedPrompt parsed = prompt::parsePrompt(text);
  const models::ClipTokenizer& tokenizer = *model.tokenizer;
  const prompt::Tokenizer tokenize = [&tokenizer](const std::string& piece) { return tokenizer.encode(piece); };
  EncodedText result;
  std::vector<at::Tensor> contexts;
  for (size_t i = 0; i < model.text_encoders.size(); ++i) {
    models::TextEncoder& encoder = model.text_encoders[i];
    const TextEncoderConfig& config = encoder->config();
    prompt::WindowOptions options = prompt::WindowOptions::clip();
    options.start_id = tokenizer.startOfText();
    options.end_id = tokenizer.endOfText();
    options.pad_id = config.pad_token;
    const bool wants_pooled = model.config().family == ModelFamily::SDXL && i + 1 == model.text_encoders.size();
    const prompt::WindowEncoder encode = [&](const at::Tensor& ids) {
      checkCancel(cancel);
      const models::TextEncoderOutput out = encoder->forward(ids.to(model.device));
      if (wants_pooled) {
        if (!out.pooled.defined()) fail(ErrorCode::MissingKey, "SDXL's second text encoder has no text_projection (pooled output)");
        result.pooled = out.pooled.slice(0, 0, 1).to(at::kFloat);  // [1, P]: A1111 pools the first window only
      }
      return encoder->conditioning(out, config.output_layer, clip_skip).to(at::kFloat);
    };
    contexts.push_back(prompt::encodePrompt(parsed.parts, tokenize, encode, options).context);
  }
  result.context = contexts.size() == 1 ? contexts[0] : models::sdxlCrossAttention(contexts[0], contexts[1]);
  return result;
}

// [1, 3, H, W] image tensor resized (bilinear) when its size differs.
at::Tensor resizeImageTensor(const at::Tensor& image, int64_t height, int64_t width) {
  if (image.size(2) == height && image.size(3) == width) return image;
  return at::upsample_bilinear2d(image, {height, width}, false);  // [1, C, H, W]
}

// The mask as [1, 1, H, W] in [0, 1] (white = repaint): the mean of its RGB channels.
at::Tensor loadMask(const std::string& path, int64_t height, int64_t width) {
  image::ReadOptions options;
  options.background = {0, 0, 0};
  const at::Tensor rgb = image::imageToTensor(image::readImage(path, options));  // [1, 3, h, w] in [-1, 1]
  const at::Tensor grey = ((rgb + 1.0) / 2.0).mean(1, true);                      // [1, 1, h, w]
  return resizeImageTensor(grey, height, width).clamp(0.0, 1.0);
}

// VAE encoding of [1, 3, H, W] images in [-1, 1]: the distribution's mean (deterministic, as ComfyUI's VAEEncode)
// times scale_factor.
at::Tensor encodeLatent(LoadedModel& model, const at::Tensor& pixels, const CancelToken* cancel) {
  checkCancel(cancel);
  const at::Tensor moments = model.vae->encodeMoments(pixels.to(model.device).to(at::kFloat));
  return models::DiagonalGaussian::fromMoments(moments).mean * model.config().vae.scale_factor;
}

// One sampling pass from `x` over `sigmas` with the guided denoiser; mask blending when `mask` is defined.
struct PassInputs {
  int batch_index = 0;
  int pass = 0;
  uint64_t seed = 0;
  at::Tensor x;           // starting latent, already noised
  at::Tensor sigmas;      // float [n + 1]
  at::Tensor init;        // blending source (undefined: no mask)
  at::Tensor noise;       // the initial noise, for blending
  at::Tensor latent_mask; // [B, 1, h, w], 1 = repaint
};

at::Tensor runPass(LoadedModel& model, const GenerateRequest& request, const diffusion::GuidedDenoiser& guided,
                   const PassInputs& in, const GenerateCallbacks& callbacks) {
  if (in.sigmas.size(0) < 2) return in.x;
  diffusion::SamplerContext context;
  if (in.latent_mask.defined()) {
    const at::Tensor mask = in.latent_mask;
    const at::Tensor keep = 1.0 - mask;
    // ComfyUI's KSamplerX0Inpaint: the kept region is re-noised to σ before each call and replaced by the source
    // in the estimate.
    context.denoiser = [&guided, mask, keep, init = in.init, noise = in.noise](const at::Tensor& x, const at::Tensor& sigma) {
      const at::Tensor s = sigma.reshape({-1, 1, 1, 1});  // [B, 1, 1, 1]
      const at::Tensor x_in = x * mask + (init + noise * s) * keep;
      return guided(x_in, sigma) * mask + init * keep;
    };
  } else {
    context.denoiser = [&guided](const at::Tensor& x, const at::Tensor& sigma) { return guided(x, sigma); };
  }
  context.noise_seed = in.seed;
  context.cancel = callbacks.cancel;
  context.options.eta = request.eta;
  context.options.s_noise = request.s_noise;
  const ModelFamily family = model.config().family;
  context.on_step = [&](const diffusion::StepInfo& info) {
    if (callbacks.on_step) {
      callbacks.on_step(StepEvent{in.batch_index, in.pass, info.step, info.total_steps, info.sigma, info.x, info.denoised});
    }
    if (callbacks.on_preview && request.preview_every > 0 &&
        ((info.step + 1) % request.preview_every == 0 || info.step + 1 == info.total_steps)) {
      callbacks.on_preview(PreviewEvent{in.batch_index, in.pass, info.step, latentPreviewImages(info.denoised, family)});
    }
  };
  at::Tensor x = diffusion::sample(request.sampler, context, in.x, in.sigmas);
  if (in.latent_mask.defined()) x = x * in.latent_mask + in.init * (1.0 - in.latent_mask);
  return x;
}

// The training schedule the denoiser and the sampling schedules are built on (zero terminal SNR when asked).
diffusion::DiscreteSchedule trainingSchedule(const GenerateRequest& request) {
  return request.zero_terminal_snr
             ? diffusion::DiscreteSchedule(diffusion::rescaleZeroTerminalSnr(diffusion::alphasCumprod(diffusion::scaledLinearBetas())))
             : diffusion::DiscreteSchedule::stableDiffusion();
}

diffusion::SchedulerContext schedulerContext(const LoadedModel& model, const diffusion::DiscreteSchedule& schedule) {
  diffusion::SchedulerContext context;
  context.schedule = &schedule;
  context.ays_model = model.config().family == ModelFamily::SDXL ? diffusion::AysModel::SDXL : diffusion::AysModel::SD1;
  return context;
}

GenerateResult generateImpl(LoadedModel& model, const GenerateRequest& request_in, const LatentStart* start,
                            const GenerateCallbacks& callbacks);

}  // namespace

at::Tensor requestSigmas(const LoadedModel& model, const GenerateRequest& request) {
  const diffusion::DiscreteSchedule schedule = trainingSchedule(request);
  return diffusion::makeSigmas(request.scheduler, schedulerContext(model, schedule), request.steps);
}

GenerateResult generate(LoadedModel& model, const GenerateRequest& request, const GenerateCallbacks& callbacks) {
  return generateImpl(model, request, nullptr, callbacks);
}

GenerateResult generateFrom(LoadedModel& model, const GenerateRequest& request, const LatentStart& start,
                            const GenerateCallbacks& callbacks) {
  return generateImpl(model, request, &start, callbacks);
}

std::string findTokenizer(const std::string& explicit_path, const std::string& model_path) {
  std::vector<std::string> looked;
  auto exists = [&looked](const std::string& path) {
    looked.push_back(path);
    std::error_code error;
    return fs::exists(path, error);
  };
  if (!explicit_path.empty()) {
    if (exists(explicit_path)) return explicit_path;
    fail(ErrorCode::FileNotFound, "the tokenizer '" + explicit_path + "' does not exist");
  }
  std::error_code error;
  if (!model_path.empty() && fs::is_directory(model_path, error)) {
    const std::string folder = (fs::path(model_path) / "tokenizer").string();
    if (exists((fs::path(folder) / "vocab.json").string())) return folder;
  }
  if (!model_path.empty() && fs::is_regular_file(model_path, error)) {
    // A single file with its own vocabulary beside it (the bundled model): vocab.json + merges.txt in its folder.
    const fs::path folder = fs::path(model_path).parent_path();
    if (exists((folder / "vocab.json").string()) && fs::exists(folder / "merges.txt", error)) {
      return folder.empty() ? std::string(".") : folder.string();
    }
  }
  if (const char* env = std::getenv("GESSO_TOKENIZER"); env && *env) {
    if (exists(env)) return env;
  }
  std::vector<fs::path> data_dirs;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    data_dirs.push_back(fs::path(xdg) / "gesso");
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    data_dirs.push_back(fs::path(home) / ".local/share/gesso");
  }
  data_dirs.push_back("/usr/local/share/gesso");
  data_dirs.push_back("/usr/share/gesso");
  for (const auto& dir : data_dirs) {
    const std::string candidate = (dir / "clip" / "bpe_simple_vocab_16e6.txt.gz").string();
    if (exists(candidate)) return candidate;
  }
  std::string list;
  for (const auto& path : looked) list += "\n  " + path;
  if (!model_path.empty() && fs::is_directory(model_path, error)) list += "\n  (the model folder's tokenizer/ has no vocab.json)";
  if (!std::getenv("GESSO_TOKENIZER")) list += "\n  $GESSO_TOKENIZER (not set)";
  fail(ErrorCode::FileNotFound,
       "no CLIP tokenizer found (give --tokenizer PATH to bpe_simple_vocab_16e6.txt.gz or a folder with vocab.json and "
       "merges.txt); looked at:" + list);
}

ModelLoadOptions ModelLoadOptions::fromRequest(const GenerateRequest& request) {
  return ModelLoadOptions{request.model, request.config, request.vae, request.tokenizer, request.device, request.precision};
}

bool ModelLoadOptions::operator==(const ModelLoadOptions& other) const {
  return model == other.model && config == other.config && vae == other.vae && tokenizer == other.tokenizer &&
         device == other.device && precision == other.precision;
}

std::shared_ptr<LoadedModel> LoadedModel::load(const ModelLoadOptions& options) {
  auto model = std::make_shared<LoadedModel>();
  model->options_ = options;
  model->device = parseDevice(options.device);
  model->dtype = parsePrecision(options.precision, model->device);
  io::Checkpoint checkpoint = io::Checkpoint::open(options.model);
  if (!options.vae.empty()) checkpoint.replaceVae(options.vae);
  ResolvedConfig resolved = resolveConfig(checkpoint, options.config);
  model->config_ = resolved.config;
  model->config_source_ = resolved.source;
  const ModelConfig& config = model->config_;
  if (config.text_encoders.empty()) fail(ErrorCode::ConfigError, "'" + options.model + "' has no text encoder");
  if (config.family == ModelFamily::SDXL && config.text_encoders.size() != 2) {
    fail(ErrorCode::ConfigError, "an SDXL checkpoint needs two text encoders, '" + options.model + "' has " +
                                     std::to_string(config.text_encoders.size()));
  }
  if (config.family != ModelFamily::SDXL && config.unet.adm_in_channels > 0) {
    fail(ErrorCode::ConfigError, "'" + options.model + "': vector (adm) conditioning is only supported for SDXL");
  }
  const std::string tokenizer_path = findTokenizer(options.tokenizer, options.model);

  // The UNet in the requested precision; the VAE and text encoders in float32 (their cost is small and fp16 VAEs
  // overflow).
  model->unet = loadUNet(checkpoint, config, BuildOptions{model->device, model->dtype});
  model->vae = loadVae(checkpoint, config, BuildOptions{model->device, c10::kFloat});
  for (size_t i = 0; i < config.text_encoders.size(); ++i) {
    model->text_encoders.push_back(loadTextEncoder(checkpoint, config, i, BuildOptions{model->device, c10::kFloat}));
  }
  model->unet->eval();
  model->vae->eval();
  for (auto& encoder : model->text_encoders) encoder->eval();
  model->tokenizer = std::make_shared<models::ClipTokenizer>(models::ClipTokenizer::load(tokenizer_path));
  return model;
}

std::shared_ptr<LoadedModel> LoadedModel::fromNetworks(const ModelLoadOptions& options, const ModelConfig& config,
                                                     models::UNet unet, models::AutoencoderKL vae,
                                                     std::vector<models::TextEncoder> text_encoders,
                                                     std::shared_ptr<models::ClipTokenizer> tokenizer) {
  auto model = std::make_shared<LoadedModel>();
  model->options_ = options;
  model->device = parseDevice(options.device);
  model->dtype = parsePrecision(options.precision, model->device);
  model->config_ = config;
  model->config_source_ = "built in memory";
  model->unet = std::move(unet);
  model->vae = std::move(vae);
  model->text_encoders = std::move(text_encoders);
  model->tokenizer = std::move(tokenizer);
  model->hashed_ = true;  // no file to hash
  return model;
}

const std::string& LoadedModel::shortHash() {
  if (!hashed_) {
    std::error_code error;
    if (fs::is_regular_file(options_.model, error)) short_hash_ = util::sha256FileHex(options_.model).substr(0, 10);
    hashed_ = true;
  }
  return short_hash_;
}

std::string LoadedModel::displayName() const {
  fs::path path(options_.model);
  if (path.filename().empty()) path = path.parent_path();
  return fs::is_directory(path) ? path.filename().string() : path.stem().string();
}

std::vector<lora::LoraApplication> resolveLoras(const GenerateRequest& request) {
  std::vector<lora::LoraApplication> set;
  for (const LoraRef& ref : request.loras) {
    lora::LoraApplication lora;
    lora.path = ref.path;
    lora.name = fs::path(ref.path).stem().string();
    lora.unet_strength = ref.strength;
    lora.text_encoder_strength = ref.strength;
    set.push_back(lora);
  }
  for (const prompt::LoraTag& tag : prompt::parsePrompt(request.prompt).loras) {
    const std::string tag_text = "<" + tag.type + ":" + tag.name + ">";
    if (request.lora_dir.empty()) {
      fail(ErrorCode::InvalidArgument, "the prompt names " + tag_text + " but no LoRA folder is set (lora_dir, --lora-dir)");
    }
    if (tag.name.find_first_of("/\\") != std::string::npos || tag.name == "..") {
      fail(ErrorCode::InvalidArgument, "the prompt's " + tag_text + " names a path; a tag names a file of the LoRA folder");
    }
    const std::string file_name = tag.name + ".safetensors";
    fs::path found = fs::path(request.lora_dir) / file_name;
    std::error_code error;
    if (!fs::is_regular_file(found, error)) {
      std::vector<fs::path> candidates;
      for (auto it = fs::recursive_directory_iterator(request.lora_dir, error); !error && it != fs::recursive_directory_iterator();
           it.increment(error)) {
        if (it->is_regular_file(error) && it->path().filename() == file_name) candidates.push_back(it->path());
      }
      if (candidates.empty()) {
        fail(ErrorCode::FileNotFound, "the prompt's " + tag_text + ": no " + file_name + " in the LoRA folder '" + request.lora_dir + "'");
      }
      found = *std::min_element(candidates.begin(), candidates.end());
    }
    lora::LoraApplication lora;
    lora.path = found.string();
    lora.name = tag.name;
    lora.text_encoder_strength = tag.strength;
    lora.unet_strength = tag.unet_strength;
    lora.dyn_dim = tag.dyn_dim;
    set.push_back(lora);
  }
  return set;
}

at::Tensor initialNoise(uint64_t seed, const std::vector<int64_t>& shape) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, generator, at::TensorOptions().dtype(at::kFloat));
}

int img2imgStartIndex(int steps, double strength) {
  const int t_enc = static_cast<int>(std::min(strength, 0.999) * steps);
  return std::max(0, steps - t_enc - 1);
}

at::Tensor latentPreview(const at::Tensor& latent, ModelFamily family) {
  // Linear latent -> RGB factors (rows: latent channels, columns: R, G, B) fitted for the scaled latents, as in
  // ComfyUI's comfy/latent_formats.py (SD15 and SDXL, the latter with its bias); SD2 shares SD1's VAE.
  static const float kSd1[4][3] = {
      {0.3512f, 0.2297f, 0.3227f}, {0.3250f, 0.4974f, 0.2350f}, {-0.2829f, 0.1762f, 0.2721f}, {-0.2120f, -0.2616f, -0.7177f}};
  static const float kSd1Bias[3] = {0.0f, 0.0f, 0.0f};
  static const float kSdxl[4][3] = {
      {0.3651f, 0.4232f, 0.4341f}, {-0.2533f, -0.0042f, 0.1068f}, {0.1076f, 0.1111f, -0.0362f}, {-0.3165f, -0.2492f, -0.2188f}};
  static const float kSdxlBias[3] = {0.1084f, -0.0175f, -0.0011f};
  if (latent.dim() != 4 || latent.size(1) != 4) fail(ErrorCode::ShapeMismatch, "latentPreview: expected [B, 4, h, w]");
  const bool xl = family == ModelFamily::SDXL;
  const at::Tensor factors =
      at::from_blob(const_cast<float*>(&(xl ? kSdxl : kSd1)[0][0]), {4, 3}, at::kFloat).to(latent.device());  // [4, 3]
  const at::Tensor bias = at::from_blob(const_cast<float*>(xl ? kSdxlBias : kSd1Bias), {3}, at::kFloat).to(latent.device());
  const at::Tensor rgb = at::einsum("bchw,cr->brhw", {latent.to(at::kFloat), factors}) + bias.reshape({1, 3, 1, 1});  // [B, 3, h, w]
  return rgb.clamp(-1.0, 1.0);
}

std::vector<image::Image> latentPreviewImages(const at::Tensor& latent, ModelFamily family) {
  return image::tensorToImages(latentPreview(latent, family).cpu());
}

namespace {

GenerateResult generateImpl(LoadedModel& model, const GenerateRequest& request_in, const LatentStart* start,
                            const GenerateCallbacks& callbacks) {
  validateRequest(request_in);
  if (!(ModelLoadOptions::fromRequest(request_in) == model.options())) {
    fail(ErrorCode::InvalidArgument, "generate: the request's model, config, vae, tokenizer, device or precision differ "
                                     "from those the model was loaded with");
  }
  GenerateResult result;
  result.request = request_in;
  GenerateRequest& request = result.request;
  if (request.seed < 0) {
    std::random_device device;
    request.seed = static_cast<int64_t>((uint64_t{device()} << 1 ^ device()) % 4294967295ULL);
  }
  const bool hires = request.hires_scale > 1.0;
  if (hires && !request.mask.empty()) fail(ErrorCode::InvalidArgument, "request: the hires fix cannot be combined with a mask");

  // LoRAs are merged before inference mode (the weights are ordinary tensors changed in place).
  model.loras.apply(model.unet, model.text_encoders, model.config(), resolveLoras(request));
  result.lora_hashes = model.loras.hashesText();

  c10::InferenceMode inference;
  const ModelConfig& config = model.config();
  const CancelToken* cancel = callbacks.cancel;
  const int64_t batch = request.batch_size;
  const int64_t height = request.height;
  const int64_t width = request.width;
  const int64_t factor = model.vae->downscaleFactor();  // 8 for Stable Diffusion, 4 for the bundled model
  const int64_t h = height / factor;
  const int64_t w = width / factor;
  const int64_t latent_channels = config.vae.embed_dim;
  const auto latent_options = at::TensorOptions().dtype(at::kFloat).device(model.device);

  // Conditioning, once for every batch.
  EncodedText positive = encodeText(model, request.prompt, request.clip_skip, cancel);
  EncodedText negative = encodeText(model, request.negative_prompt, request.clip_skip, cancel);
  auto [cond_context, uncond_context] = prompt::matchConditioningLengths(positive.context, negative.context);
  diffusion::Conditioning cond{cond_context, {}, {}};
  diffusion::Conditioning uncond{uncond_context, {}, {}};
  auto sdxlVectors = [&](int64_t image_height, int64_t image_width) {
    auto pair = [&](double a, double b) { return at::tensor({a, b}, latent_options).reshape({1, 2}); };  // [1, 2]
    models::SdxlSizeConditions sizes{
        pair(request.original_height ? request.original_height : image_height,
             request.original_width ? request.original_width : image_width),
        pair(request.crop_top, request.crop_left),
        pair(request.target_height ? request.target_height : image_height,
             request.target_width ? request.target_width : image_width)};
    cond.vector = models::sdxlVector(positive.pooled.to(model.device), sizes);
    uncond.vector = models::sdxlVector(negative.pooled.to(model.device), sizes);
  };
  if (config.family == ModelFamily::SDXL) sdxlVectors(height, width);

  // The denoiser over the training schedule k-diffusion and A1111 use; the sampling schedule from the same table.
  const diffusion::DiscreteSchedule schedule = trainingSchedule(request);
  const diffusion::DenoiserOptions denoiser_options =
      config.prediction == Prediction::V ? diffusion::DenoiserOptions::velocity() : diffusion::DenoiserOptions::epsilon();
  const diffusion::Denoiser denoiser(diffusion::unetNetwork(model.unet), denoiser_options, schedule.sigmas());
  const diffusion::SchedulerContext scheduler_context = schedulerContext(model, schedule);
  if (start) {
    if (request.batch_count != 1) fail(ErrorCode::InvalidArgument, "generateFrom: batch_count must be 1");
    const std::vector<int64_t> expected{batch, latent_channels, h, w};
    if (!start->x.defined() || start->x.sizes().vec() != expected) {
      fail(ErrorCode::ShapeMismatch, "generateFrom: the start latent must be [" + std::to_string(batch) + ", " +
                                         std::to_string(latent_channels) + ", " + std::to_string(h) + ", " +
                                         std::to_string(w) + "] for this request");
    }
    if (!start->sigmas.defined() || start->sigmas.dim() != 1 || start->sigmas.size(0) < 2) {
      fail(ErrorCode::InvalidArgument, "generateFrom: the start needs at least two sigmas (one step)");
    }
  }
  const diffusion::GuidanceOptions guidance{request.cfg_scale, request.cfg_rescale};

  // img2img / inpaint sources.
  const bool img2img = !request.init_image.empty();
  at::Tensor init_latent;     // [1, C, h, w]
  at::Tensor latent_mask;     // [1, 1, h, w]
  at::Tensor pixel_image;     // [1, 3, H, W]
  at::Tensor pixel_mask;      // [1, 1, H, W]
  if (img2img) {
    pixel_image = resizeImageTensor(image::imageToTensor(image::readImage(request.init_image)), height, width);
    init_latent = encodeLatent(model, pixel_image, cancel);
    if (!request.mask.empty()) {
      pixel_mask = loadMask(request.mask, height, width);
      latent_mask = at::upsample_bilinear2d(pixel_mask, {h, w}, false).clamp(0.0, 1.0).to(model.device);  // [1, 1, h, w]
    }
  }
  // Inpainting checkpoints (in_channels = latent + 1 + latent): [mask, masked-image latent] appended to the input,
  // as A1111 builds it (mask rounded; no mask: all ones, so the masked image is empty).
  if (config.unet.in_channels == 2 * latent_channels + 1) {
    const at::Tensor full_mask = pixel_mask.defined() ? pixel_mask.round() : at::ones({1, 1, height, width});
    const at::Tensor source = pixel_image.defined() ? pixel_image : at::zeros({1, 3, height, width});
    const at::Tensor masked = source * (1.0 - full_mask);  // [1, 3, H, W]
    const at::Tensor masked_latent = encodeLatent(model, masked, cancel);
    const at::Tensor small_mask = at::upsample_nearest2d(full_mask, {h, w}).to(model.device);  // [1, 1, h, w]
    cond.concat = at::cat({small_mask, masked_latent}, 1);  // [1, 1 + C, h, w]
  } else if (config.unet.in_channels != latent_channels) {
    fail(ErrorCode::ConfigError, "the UNet takes " + std::to_string(config.unet.in_channels) + " input channels; expected " +
                                     std::to_string(latent_channels) + " or " + std::to_string(2 * latent_channels + 1) +
                                     " (inpainting)");
  }
  const diffusion::GuidedDenoiser guided(denoiser, cond, uncond, guidance);

  for (int batch_index = 0; batch_index < request.batch_count; ++batch_index) {
    const uint64_t seed = static_cast<uint64_t>(request.seed) + static_cast<uint64_t>(batch_index);
    checkCancel(cancel);
    const at::Tensor noise = initialNoise(seed, {batch, latent_channels, h, w}).to(model.device);  // [B, C, h, w]
    at::Tensor sigmas = diffusion::makeSigmas(request.scheduler, scheduler_context, request.steps);
    PassInputs pass;
    pass.batch_index = batch_index;
    pass.seed = seed;
    pass.noise = noise;
    if (img2img) {
      sigmas = sigmas.slice(0, img2imgStartIndex(static_cast<int>(sigmas.size(0)) - 1, request.strength));
      pass.init = init_latent.expand({batch, -1, -1, -1});  // [B, C, h, w]
      pass.x = pass.init + noise * sigmas[0].item<double>();
      if (latent_mask.defined()) pass.latent_mask = latent_mask.expand({batch, -1, -1, -1});  // [B, 1, h, w]
    } else {
      pass.x = noise * sigmas[0].item<double>();
    }
    if (start) {
      pass.x = start->x.to(latent_options).clone();  // the caller keeps its latent (samplers may work in place)
      sigmas = start->sigmas.to(at::kFloat).cpu();
    }
    pass.sigmas = sigmas;
    at::Tensor x = runPass(model, request, guided, pass, callbacks);

    if (hires) {
      // A1111's default hires upscaler "Latent": bilinear upscaling of the latent, then an img2img pass with its own
      // strength; its noise is drawn again from the batch's seed for the larger shape.
      const int64_t hires_width = static_cast<int64_t>(width * request.hires_scale) / 8 * 8;
      const int64_t hires_height = static_cast<int64_t>(height * request.hires_scale) / 8 * 8;
      const at::Tensor upscaled = at::upsample_bilinear2d(x, {hires_height / factor, hires_width / factor}, false);  // [B, C, h', w']
      if (config.family == ModelFamily::SDXL) sdxlVectors(hires_height, hires_width);
      diffusion::Conditioning hires_cond = cond;
      if (hires_cond.concat.defined()) {
        hires_cond.concat = at::upsample_nearest2d(hires_cond.concat, {hires_height / factor, hires_width / factor});
      }
      const diffusion::GuidedDenoiser hires_guided(denoiser, hires_cond, uncond, guidance);
      const int hires_steps = request.hires_steps > 0 ? request.hires_steps : request.steps;
      at::Tensor hires_sigmas = diffusion::makeSigmas(request.scheduler, scheduler_context, hires_steps);
      hires_sigmas = hires_sigmas.slice(0, img2imgStartIndex(static_cast<int>(hires_sigmas.size(0)) - 1, request.hires_strength));
      PassInputs second;
      second.batch_index = batch_index;
      second.pass = 1;
      second.seed = seed;
      second.noise = initialNoise(seed, {batch, latent_channels, hires_height / factor, hires_width / factor}).to(model.device);
      second.x = upscaled + second.noise * hires_sigmas[0].item<double>();
      second.sigmas = hires_sigmas;
      x = runPass(model, request, hires_guided, second, callbacks);
      if (config.family == ModelFamily::SDXL) sdxlVectors(height, width);
    }

    checkCancel(cancel);
    const at::Tensor decoded = decodeLatentsChecked(model.vae, x / config.vae.scale_factor,
                                                    "batch " + std::to_string(batch_index + 1), model.unet.ptr().get());  // [B, 3, H, W]
    std::vector<image::Image> images = image::tensorToImages(decoded.cpu());
    std::vector<GeneratedImage> finished;
    for (size_t i = 0; i < images.size(); ++i) {
      finished.push_back(GeneratedImage{std::move(images[i]), batch_index, static_cast<int>(i), static_cast<int64_t>(seed)});
    }
    if (callbacks.on_batch) callbacks.on_batch(finished);
    for (GeneratedImage& image : finished) result.images.push_back(std::move(image));
  }
  return result;
}

}  // namespace

}  // namespace gesso::pipeline
