// Trainer setup: the networks (from a checkpoint or random weights), the data and its caches, what is trained and
// how; and the batch inputs (VAE moments and text conditioning, through the caches).
#include "trainer_impl.h"

#include "gesso/error.h"
#include "gesso/io/checkpoint.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/model_loader.h"
#include "gesso/models/sdxl_conditioning.h"
#include "gesso/nn/layers.h"
#include "gesso/util/sha256.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace gesso::training {

namespace fs = std::filesystem;

namespace {

c10::Device parseDevice(const std::string& name) {
  try {
    return c10::Device(name);
  } catch (const std::exception&) {
    fail(ErrorCode::InvalidArgument, "training option 'device': unknown device '" + name + "' (expected cpu or cuda[:N])");
  }
}

std::string defaultCacheDir() {
  if (const char* dir = std::getenv("GESSO_CACHE_DIR"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir) return (fs::path(dir) / "gesso" / "training").string();
  if (const char* home = std::getenv("HOME"); home && *home) return (fs::path(home) / ".cache" / "gesso" / "training").string();
  return (fs::temp_directory_path() / "gesso-training-cache").string();
}

// --init random: the SD1 preset with the YAML laid over it, then text-encoder configs beside the YAML
// (NAME.config.json / NAME.open_clip.json for encoder 0, NAME.embedderN.config.json / .open_clip.json), as
// resolveConfig reads them beside a checkpoint NAME.safetensors. The VAE config comes from the YAML or, when it
// has none, from the VAE file's shapes.
ModelConfig randomInitConfig(const TrainConfig& train, const io::Checkpoint& vae_checkpoint) {
  ModelConfig config = presetConfig("sd15");
  const ConfigOverrides overrides = loadYamlConfig(train.config);
  overrides.applyTo(config);
  if (!overrides.vae) {
    const ModelConfig detected = detectConfig(vae_checkpoint.shapes());
    const double scale = overrides.scale_factor.value_or(config.vae.scale_factor);
    config.vae = detected.vae;
    config.vae.scale_factor = scale;
  }
  const fs::path yaml(train.config);
  const fs::path stem = yaml.parent_path() / yaml.stem();
  for (size_t i = 0; i < config.text_encoders.size(); ++i) {
    std::vector<std::string> names = {".embedder" + std::to_string(i) + ".config.json", ".embedder" + std::to_string(i) + ".open_clip.json"};
    if (i == 0) names.insert(names.begin(), {".config.json", ".open_clip.json"});
    for (const auto& suffix : names) {
      const std::string path = stem.string() + suffix;
      if (fs::is_regular_file(path)) {
        applyConfigFile(path, config, static_cast<int>(i));
        break;
      }
    }
  }
  int64_t width = 0;
  for (const auto& text : config.text_encoders) width += text.width;
  if (width != config.unet.context_dim) {
    fail(ErrorCode::ConfigError, "'" + train.config + "': the UNet's context_dim " + std::to_string(config.unet.context_dim) +
                                     " differs from the text encoders' width " + std::to_string(width) +
                                     " (give the text encoder's config as " + stem.string() + ".config.json)");
  }
  return config;
}

}  // namespace

void Trainer::Impl::message(const std::string& text) const {
  if (callbacks.on_message) callbacks.on_message(text);
}

void Trainer::Impl::setup() {
  device = parseDevice(config.device);
  if (config.mixed_precision != "no") {
    autocast = true;
    autocast_dtype = config.mixed_precision == "bf16" ? at::kBFloat16 : at::kHalf;
  }
  buildModel();
  setupData();
  setupOptimization();
}

void Trainer::Impl::buildModel() {
  pipeline::ModelLoadOptions options;
  options.model = config.model;
  options.config = config.config;
  options.vae = config.vae;
  options.tokenizer = config.tokenizer;
  options.device = config.device;
  options.precision = "fp32";  // master weights in fp32; mixed precision is autocast on top
  if (config.init == "checkpoint") {
    message("loading " + config.model);
    model = pipeline::LoadedModel::load(options);
  } else {
    message("building " + config.config + " with random weights (seed " + std::to_string(config.seed) + ")");
    io::Checkpoint vae_checkpoint = io::Checkpoint::open(config.vae);
    vae_checkpoint.replaceVae(config.vae);
    const ModelConfig model_config = randomInitConfig(config, vae_checkpoint);
    const auto float_options = at::TensorOptions().dtype(at::kFloat);
    models::UNet unet(model_config.unet, float_options);
    nn::fillRandomWeights(*unet, static_cast<uint64_t>(config.seed));
    unet->to(device);
    std::vector<models::TextEncoder> encoders;
    for (size_t i = 0; i < model_config.text_encoders.size(); ++i) {
      models::TextEncoder encoder(model_config.text_encoders[i], float_options);
      nn::fillRandomWeights(*encoder, static_cast<uint64_t>(config.seed) + 1 + i);
      encoder->to(device);
      encoders.push_back(encoder);
    }
    models::AutoencoderKL vae = loadVae(vae_checkpoint, model_config, BuildOptions{device, c10::kFloat});
    auto tokenizer = std::make_shared<models::ClipTokenizer>(
        models::ClipTokenizer::load(pipeline::findTokenizer(config.tokenizer, config.config)));
    for (const auto& text : model_config.text_encoders) {
      if (static_cast<int64_t>(tokenizer->vocabulary().size()) > text.vocab_size) {
        fail(ErrorCode::ConfigError, "the tokenizer has " + std::to_string(tokenizer->vocabulary().size()) +
                                         " tokens but the text encoder's vocab_size is " + std::to_string(text.vocab_size));
      }
    }
    options.model = (fs::path(config.output) / "random-init").string();
    model = pipeline::LoadedModel::fromNetworks(options, model_config, unet, vae, encoders, tokenizer);
  }
  model_config = model->config();
}

void Trainer::Impl::setupData() {
  data_options.folder = config.data;
  data_options.resolution = config.resolution;
  data_options.buckets = config.buckets;
  data_options.random_crop = config.random_crop;
  data_options.flip = config.flip;
  data_options.caption_dropout = config.caption_dropout;
  data_options.shuffle_tags = config.shuffle_tags;
  data_options.keep_tags = config.keep_tags;
  const std::string cache = config.cache_dir.empty() ? defaultCacheDir() : config.cache_dir;
  // Unchanged images are not decoded or hashed again on the next scan of the same folder.
  std::error_code ignored;
  fs::create_directories(cache, ignored);
  data_options.scan_memory_file =
      (fs::path(cache) / ("scan-" + util::sha256Hex(fs::absolute(config.data).string()).substr(0, 16) + ".json")).string();
  message("scanning " + config.data);
  DatasetScan scan = scanDataset(data_options);
  for (const auto& skipped : scan.skipped) message("skipped " + skipped.path + ": " + skipped.reason);
  message(std::to_string(scan.items.size()) + " images usable, " + std::to_string(scan.skipped.size()) + " skipped");
  auto split = splitValidation(scan.items, config.validation_split, static_cast<uint64_t>(config.seed));
  if (split.first.empty()) fail(ErrorCode::InvalidArgument, "no training images left after the validation split of '" + config.data + "'");
  validation_items = std::move(split.second);
  batcher = std::make_unique<BucketBatcher>(std::move(split.first), config.batch_size, static_cast<uint64_t>(config.seed));
  if (config.steps > 0) {
    total_steps = config.steps;
  } else {
    const int64_t per_epoch = (batcher->batchesPerEpoch() + config.grad_accum - 1) / config.grad_accum;
    total_steps = std::max<int64_t>(1, config.epochs) * std::max<int64_t>(1, per_epoch);
  }

  latent_cache = std::make_unique<TensorCache>((fs::path(cache) / "latents").string(), hashModule(*model->vae));
  if (!config.train_text_encoder) {
    std::string hashes;
    for (const auto& encoder : model->text_encoders) hashes += hashModule(*encoder);
    text_cache = std::make_unique<TensorCache>((fs::path(cache) / "text").string(), util::sha256Hex(hashes));
  }
}

void Trainer::Impl::setupForExport() {
  device = parseDevice(config.device);
  buildModel();
  collectParameters();
}

void Trainer::Impl::collectParameters() {
  for (auto& p : model->unet->parameters()) p.requires_grad_(false);
  for (auto& p : model->vae->parameters()) p.requires_grad_(false);
  for (auto& encoder : model->text_encoders) {
    for (auto& p : encoder->parameters()) p.requires_grad_(false);
  }
  if (config.method == "full") {
    for (auto& p : model->unet->parameters()) parameters.push_back(p);
    if (config.train_text_encoder) {
      for (auto& encoder : model->text_encoders) {
        for (auto& p : encoder->parameters()) parameters.push_back(p);
      }
    }
    for (auto& p : parameters) p.requires_grad_(true);
  } else {
    lora::LoraOptions options;
    options.rank = config.rank;
    options.alpha = config.alpha;
    options.conv_rank = config.conv_rank;
    options.conv_alpha = config.conv_alpha;
    options.train_unet = true;
    options.train_text_encoder = config.train_text_encoder;
    lora = lora::LoraNetwork::attach(model->unet, model->text_encoders, model_config, options, static_cast<uint64_t>(config.seed));
    parameters = lora->parameters();
    for (auto& p : parameters) p.requires_grad_(true);
  }
}

void Trainer::Impl::setupOptimization() {
  collectParameters();
  model->unet->setGradientCheckpointing(config.grad_checkpointing);

  AdamWSettings settings;
  settings.lr = config.lr;
  settings.beta1 = config.adam_beta1;
  settings.beta2 = config.adam_beta2;
  settings.epsilon = config.adam_epsilon;
  settings.weight_decay = config.weight_decay;
  optimizer = makeAdamW(parameters, settings);
  schedule = parseLrSchedule(config.lr_scheduler);
  ema = Ema(parameters, config.ema);
  scaler = LossScaler(config.mixed_precision == "fp16");
  denoiser.emplace(diffusion::unetNetwork(model->unet), model_config.prediction == Prediction::V
                                                            ? diffusion::DenoiserOptions::velocity()
                                                            : diffusion::DenoiserOptions::epsilon());
  generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(config.seed));
  data_rng.seed(static_cast<uint64_t>(config.seed));
}

PreparedBatch Trainer::Impl::prepareBatch(const std::vector<DatasetItem>& items, const std::vector<size_t>& indices,
                                          const std::vector<Augmentation>& augmentations,
                                          const std::vector<std::string>& captions) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> means, logvars, sizes;
  std::vector<at::Tensor> masks(indices.size());  // undefined where an item has no mask
  for (size_t k = 0; k < indices.size(); ++k) {
    const DatasetItem& item = items[indices[k]];
    const std::string key = TensorCache::latentKey(item, augmentations[k]);
    std::optional<std::map<std::string, at::Tensor>> entry = latent_cache->load(key);
    if (!entry || !entry->count("mean") || !entry->count("logvar") || !entry->count("sizes")) {
      const Example example = loadExample(item, data_options, augmentations[k]);
      const at::Tensor moments = model->vae->encodeMoments(example.pixels.unsqueeze(0).to(device));  // [1, 2C, h, w]
      const models::DiagonalGaussian gaussian = models::DiagonalGaussian::fromMoments(moments);
      std::map<std::string, at::Tensor> tensors;
      tensors["mean"] = gaussian.mean[0].to(at::kCPU).contiguous();
      tensors["logvar"] = gaussian.logvar[0].to(at::kCPU).contiguous();
      tensors["sizes"] = at::tensor({static_cast<float>(example.original_height), static_cast<float>(example.original_width),
                                     static_cast<float>(example.crop_top), static_cast<float>(example.crop_left),
                                     static_cast<float>(item.bucket_height), static_cast<float>(item.bucket_width)});
      if (example.mask.defined()) {
        const int64_t h = tensors["mean"].size(1), w = tensors["mean"].size(2);
        tensors["mask"] = at::adaptive_avg_pool2d(example.mask.unsqueeze(0), {h, w})[0].contiguous();  // [1, h, w]
      }
      latent_cache->store(key, tensors);
      entry = std::move(tensors);
    }
    means.push_back(entry->at("mean"));
    logvars.push_back(entry->at("logvar"));
    sizes.push_back(entry->at("sizes"));
    if (entry->count("mask")) masks[k] = entry->at("mask");
  }
  PreparedBatch batch;
  batch.mean = at::stack(means).to(at::kFloat);      // [B, C, h, w]
  batch.logvar = at::stack(logvars).to(at::kFloat);  // [B, C, h, w]
  batch.sizes = at::stack(sizes).to(at::kFloat);     // [B, 6]
  if (std::any_of(masks.begin(), masks.end(), [](const at::Tensor& m) { return m.defined(); })) {
    for (auto& mask : masks) {
      if (!mask.defined()) mask = at::ones({1, batch.mean.size(2), batch.mean.size(3)});  // no mask: every pixel counts
    }
    batch.mask = at::stack(masks).to(at::kFloat);  // [B, 1, h, w]
  }
  batch.captions = captions;
  return batch;
}

diffusion::Conditioning Trainer::Impl::conditioning(const std::vector<std::string>& captions, const at::Tensor& sizes) {
  const bool wants_pooled = model_config.unet.adm_in_channels > 0;
  auto encode = [&](const std::vector<std::string>& texts, at::Tensor& pooled) {
    std::vector<at::Tensor> contexts;
    for (size_t i = 0; i < model->text_encoders.size(); ++i) {
      models::TextEncoder& encoder = model->text_encoders[i];
      const at::Tensor ids = model->tokenizer->encodeBatch(texts, encoder->config().pad_token).to(device);  // [B, 77]
      const models::TextEncoderOutput out = encoder->forward(ids);
      contexts.push_back(encoder->conditioning(out, encoder->config().output_layer, config.clip_skip));
      if (wants_pooled && i + 1 == model->text_encoders.size()) {
        if (!out.pooled.defined()) fail(ErrorCode::MissingKey, "SDXL's second text encoder has no text_projection (pooled output)");
        pooled = out.pooled;
      }
    }
    return contexts.size() == 1 ? contexts[0] : models::sdxlCrossAttention(contexts[0], contexts[1]);  // [B, 77, D]
  };

  at::Tensor context, pooled;
  if (text_cache) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> contexts, pooleds;
    for (const auto& caption : captions) {
      const std::string key = TensorCache::textKey(caption, config.clip_skip);
      std::optional<std::map<std::string, at::Tensor>> entry = text_cache->load(key);
      if (!entry || !entry->count("context")) {
        at::Tensor one_pooled;
        const at::Tensor one = encode({caption}, one_pooled);
        std::map<std::string, at::Tensor> tensors{{"context", one[0].to(at::kCPU).to(at::kFloat).contiguous()}};
        if (one_pooled.defined()) tensors["pooled"] = one_pooled[0].to(at::kCPU).to(at::kFloat).contiguous();
        text_cache->store(key, tensors);
        entry = std::move(tensors);
      }
      contexts.push_back(entry->at("context"));
      if (wants_pooled) {
        if (!entry->count("pooled")) fail(ErrorCode::InvalidFormat, "text cache entry for '" + caption + "' has no pooled output");
        pooleds.push_back(entry->at("pooled"));
      }
    }
    context = at::stack(contexts).to(device);
    if (wants_pooled) pooled = at::stack(pooleds).to(device);
  } else {
    context = encode(captions, pooled);
  }
  diffusion::Conditioning cond;
  cond.crossattn = context;
  if (wants_pooled) {
    const at::Tensor s = sizes.to(device);
    models::SdxlSizeConditions size_conditions{s.slice(1, 0, 2), s.slice(1, 2, 4), s.slice(1, 4, 6)};
    cond.vector = models::sdxlVector(pooled.to(at::kFloat), size_conditions);
  }
  return cond;
}

}  // namespace gesso::training
