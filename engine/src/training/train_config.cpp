// TrainConfig's checks and JSON form: one table of fields drives writing, reading and comparing.
#include "gesso/training/train_config.h"

#include "gesso/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace gesso::training {

namespace {

using Json = nlohmann::json;

// Calls visit(name, member) for every field; used for JSON in both directions and for ==.
template <class Config, class Visit>
void forEachField(Config& c, Visit&& visit) {
  visit("model", c.model);
  visit("data", c.data);
  visit("output", c.output);
  visit("method", c.method);
  visit("init", c.init);
  visit("config", c.config);
  visit("vae", c.vae);
  visit("tokenizer", c.tokenizer);
  visit("device", c.device);
  visit("cache_dir", c.cache_dir);
  visit("rank", c.rank);
  visit("alpha", c.alpha);
  visit("conv_rank", c.conv_rank);
  visit("conv_alpha", c.conv_alpha);
  visit("train_text_encoder", c.train_text_encoder);
  visit("steps", c.steps);
  visit("epochs", c.epochs);
  visit("batch_size", c.batch_size);
  visit("grad_accum", c.grad_accum);
  visit("lr", c.lr);
  visit("lr_scheduler", c.lr_scheduler);
  visit("warmup", c.warmup);
  visit("weight_decay", c.weight_decay);
  visit("max_grad_norm", c.max_grad_norm);
  visit("adam_beta1", c.adam_beta1);
  visit("adam_beta2", c.adam_beta2);
  visit("adam_epsilon", c.adam_epsilon);
  visit("resolution", c.resolution);
  visit("buckets", c.buckets);
  visit("flip", c.flip);
  visit("random_crop", c.random_crop);
  visit("caption_dropout", c.caption_dropout);
  visit("shuffle_tags", c.shuffle_tags);
  visit("keep_tags", c.keep_tags);
  visit("clip_skip", c.clip_skip);
  visit("min_snr", c.min_snr);
  visit("noise_offset", c.noise_offset);
  visit("ema", c.ema);
  visit("grad_checkpointing", c.grad_checkpointing);
  visit("mixed_precision", c.mixed_precision);
  visit("save_precision", c.save_precision);
  visit("save_every", c.save_every);
  visit("keep", c.keep);
  visit("sample_every", c.sample_every);
  visit("sample_prompts", c.sample_prompts);
  visit("sample_steps", c.sample_steps);
  visit("validation_split", c.validation_split);
  visit("validate_every", c.validate_every);
  visit("seed", c.seed);
  visit("resume", c.resume);
}

template <class T>
void readField(const Json& json, const char* name, T& value) {
  const auto it = json.find(name);
  if (it == json.end()) return;
  const Json& item = *it;
  bool ok = false;
  if constexpr (std::is_same_v<T, std::string>) {
    ok = item.is_string();
  } else if constexpr (std::is_same_v<T, bool>) {
    ok = item.is_boolean();
  } else if constexpr (std::is_integral_v<T>) {
    ok = item.is_number_integer();
  } else {
    ok = item.is_number();
  }
  if (!ok) fail(ErrorCode::InvalidArgument, std::string("training config field '") + name + "' has the wrong type (" + item.type_name() + ")");
  value = item.get<T>();
}

void require(bool condition, const std::string& field, const std::string& expected) {
  if (!condition) fail(ErrorCode::InvalidArgument, "training option '" + field + "' " + expected);
}

}  // namespace

void TrainConfig::validate() const {
  require(method == "lora" || method == "full", "method", "must be lora or full, not '" + method + "'");
  require(init == "checkpoint" || init == "random", "init", "must be checkpoint or random, not '" + init + "'");
  if (init == "checkpoint") require(!model.empty(), "model", "is required (or use --init random --config YAML)");
  if (init == "random") {
    require(!config.empty(), "config", "is required with --init random");
    require(!vae.empty(), "vae", "is required with --init random (a trained VAE)");
    require(method == "full", "method", "must be full with --init random (LoRA needs trained base weights)");
  }
  require(!data.empty(), "data", "is required");
  require(!output.empty(), "output", "is required");
  require(rank >= 1, "rank", "must be at least 1");
  require(alpha > 0, "alpha", "must be positive");
  require(conv_rank >= 0, "conv_rank", "must be 0 or more");
  require(steps >= 0 && epochs >= 0, "steps", "and epochs must not be negative");
  require(batch_size >= 1, "batch_size", "must be at least 1");
  require(grad_accum >= 1, "grad_accum", "must be at least 1");
  require(std::isfinite(lr) && lr > 0, "lr", "must be a positive number");
  require(lr_scheduler == "constant" || lr_scheduler == "constant_with_warmup" || lr_scheduler == "linear" ||
              lr_scheduler == "cosine",
          "lr_scheduler", "must be constant, constant_with_warmup, linear or cosine, not '" + lr_scheduler + "'");
  require(warmup >= 0, "warmup", "must not be negative");
  require(weight_decay >= 0, "weight_decay", "must not be negative");
  require(max_grad_norm >= 0, "max_grad_norm", "must not be negative");
  require(resolution >= 64 && resolution % 8 == 0, "resolution", "must be a multiple of 8, at least 64");
  require(caption_dropout >= 0 && caption_dropout <= 1, "caption_dropout", "must be in [0, 1]");
  require(keep_tags >= 0, "keep_tags", "must not be negative");
  require(clip_skip >= 0, "clip_skip", "must not be negative");
  require(min_snr >= 0, "min_snr", "must not be negative");
  require(noise_offset >= 0, "noise_offset", "must not be negative");
  require(ema >= 0 && ema < 1, "ema", "must be in [0, 1) (0: off)");
  require(mixed_precision == "no" || mixed_precision == "fp16" || mixed_precision == "bf16", "mixed_precision",
          "must be no, fp16 or bf16, not '" + mixed_precision + "'");
  require(mixed_precision == "no" || device.rfind("cuda", 0) == 0, "mixed_precision",
          "fp16/bf16 needs a CUDA device; the CPU trains in fp32 (use --mixed-precision no)");
  require(save_precision == "fp16" || save_precision == "fp32", "save_precision", "must be fp16 or fp32");
  require(save_every >= 0 && sample_every >= 0 && validate_every >= 0, "save_every",
          "sample_every and validate_every must not be negative");
  require(keep >= 1, "keep", "must be at least 1");
  require(sample_every == 0 || !sample_prompts.empty(), "sample_prompts", "is required with sample_every");
  require(sample_steps >= 1, "sample_steps", "must be at least 1");
  require(validation_split >= 0 && validation_split < 1, "validation_split", "must be in [0, 1)");
  require(validate_every == 0 || validation_split > 0, "validate_every", "needs a validation_split above 0");
  require(seed >= 0, "seed", "must not be negative");
}

std::string TrainConfig::toJson(int indent) const {
  Json json = Json::object();
  forEachField(*this, [&json](const char* name, const auto& value) { json[name] = value; });
  return json.dump(indent);
}

TrainConfig TrainConfig::fromJson(const std::string& json_text) {
  Json json;
  try {
    json = Json::parse(json_text);
  } catch (const std::exception& error) {
    fail(ErrorCode::InvalidFormat, std::string("training config is not valid JSON: ") + error.what());
  }
  if (!json.is_object()) fail(ErrorCode::InvalidFormat, "training config must be a JSON object");
  TrainConfig config;
  std::set<std::string> known;
  forEachField(config, [&](const char* name, auto& value) {
    known.insert(name);
    readField(json, name, value);
  });
  for (const auto& item : json.items()) {
    if (!known.count(item.key())) fail(ErrorCode::InvalidArgument, "unknown training config field '" + item.key() + "'");
  }
  return config;
}

bool TrainConfig::operator==(const TrainConfig& other) const { return toJson(-1) == other.toJson(-1); }

}  // namespace gesso::training
