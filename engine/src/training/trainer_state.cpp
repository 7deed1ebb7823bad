// What a checkpoint holds and how a run is restored from it, and the exported result (LoRA file or LDM checkpoint).
// Files: trained.safetensors (param.NNNNN in training order), optimizer.safetensors (exp_avg.i / exp_avg_sq.i),
// ema.safetensors (ema.i), rng.safetensors (cpu and cuda generator states), state.json (step, schedule, data
// position, data RNG, loss scaler, smoothed loss, AdamW step counts), config.json (the TrainConfig), lora.safetensors
// (LoRA runs: the adapters as a usable file), manifest.json (written last). Trainer::exportCheckpoint (trainer_export.cpp)
// turns a full run's checkpoint into a model file through the same restore code.
#include "trainer_impl.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/training/checkpoint_store.h"

#include "gesso/io/ldm_writer.h"
#include "../util/atomic_file.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace gesso::training {

namespace fs = std::filesystem;

namespace {

constexpr int kStateVersion = 1;

std::string parameterName(size_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "param.%05zu", index);
  return name;
}

bool isYamlPath(const fs::path& path) { return path.extension() == ".yaml" || path.extension() == ".yml"; }

// The YAML the trained model's config came from (--config, or MODEL.yaml beside the base checkpoint), or "".
std::string configYamlOf(const TrainConfig& config) {
  if (!config.config.empty() && isYamlPath(config.config)) return config.config;
  if (config.init != "random" && !config.model.empty()) {
    const fs::path beside = fs::path(config.model).replace_extension(".yaml");
    if (fs::is_regular_file(beside)) return beside.string();
  }
  return {};
}


// A checkpoint's state.json, its version checked.
nlohmann::json readState(const std::string& path) {
  std::ifstream in(fs::path(path) / "state.json", std::ios::binary);
  if (!in) fail(ErrorCode::FileNotFound, "checkpoint '" + path + "': cannot read state.json");
  std::stringstream text;
  text << in.rdbuf();
  try {
    nlohmann::json state = nlohmann::json::parse(text.str());
    if (state.at("version").get<int>() != kStateVersion) fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': unknown state version");
    return state;
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': state.json: " + error.what());
  }
}

std::map<std::string, at::Tensor> readTensors(const std::string& path) {
  const auto file = io::SafetensorsFile::open(path);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& info : file->tensors()) tensors[info.name] = file->tensor(info.name).clone();
  return tensors;
}

at::Tensor generatorState(at::Generator& generator) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void setGeneratorState(at::Generator& generator, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

std::map<std::string, std::string> exportMetadata(const TrainConfig& config, const ModelConfig& model, int64_t step,
                                                  int64_t images) {
  // Training facts in kohya's ss_* keys (LoraNetwork::save writes the network's own: module, dim, alpha, base
  // model), plus the whole config.
  std::map<std::string, std::string> metadata{
      {"ss_steps", std::to_string(step)},
      {"ss_learning_rate", std::to_string(config.lr)},
      {"ss_lr_scheduler", config.lr_scheduler},
      {"ss_lr_warmup_steps", std::to_string(config.warmup)},
      {"ss_batch_size_per_device", std::to_string(config.batch_size)},
      {"ss_gradient_accumulation_steps", std::to_string(config.grad_accum)},
      {"ss_resolution", "(" + std::to_string(config.resolution) + ", " + std::to_string(config.resolution) + ")"},
      {"ss_seed", std::to_string(config.seed)},
      {"ss_min_snr_gamma", std::to_string(config.min_snr)},
      {"ss_noise_offset", std::to_string(config.noise_offset)},
      {"ss_mixed_precision", config.mixed_precision},
      {"ss_training_comment", "trained with Gesso"},
      {"gesso_train_config", config.toJson(-1)},
      {"gesso_family", familyName(model.family)},
  };
  if (images >= 0) metadata["ss_num_train_images"] = std::to_string(images);
  return metadata;
}

}  // namespace

std::vector<std::pair<std::string, at::Tensor>> Trainer::Impl::trainedTensors() const {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (size_t i = 0; i < parameters.size(); ++i) tensors.emplace_back(parameterName(i), parameters[i].detach());
  return tensors;
}

void Trainer::Impl::saveCheckpoint() {
  CheckpointWriter writer(config.output, step);
  const fs::path folder(writer.folder());
  io::writeSafetensors((folder / "trained.safetensors").string(), trainedTensors());

  const AdamWState adam = adamwState(*optimizer, parameters);
  io::writeSafetensors((folder / "optimizer.safetensors").string(), adam.tensors);
  if (ema.enabled()) {
    std::vector<std::pair<std::string, at::Tensor>> shadow;
    for (size_t i = 0; i < ema.shadow().size(); ++i) shadow.emplace_back("ema." + std::to_string(i), ema.shadow()[i]);
    io::writeSafetensors((folder / "ema.safetensors").string(), shadow);
  }
  std::vector<std::pair<std::string, at::Tensor>> rng{{"cpu", generatorState(generator)}};
  if (at::hasCUDA()) {
    // Nothing here draws from the CUDA generator (all noise comes from the CPU one), but its state is kept too.
    at::Generator cuda = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, device.is_cuda() ? device.index() : 0));
    rng.emplace_back("cuda", generatorState(cuda));
  }
  io::writeSafetensors((folder / "rng.safetensors").string(), rng);
  if (lora) lora->save((folder / "lora.safetensors").string(), exportMetadata(config, model_config, step, batcher->items().size()), at::kFloat);

  std::ostringstream data_rng_text;
  data_rng_text << data_rng;
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& p : parameters) shapes.push_back(p.sizes().vec());
  const BucketBatcher::State position = batcher->state();
  const nlohmann::json state{
      {"format", "gesso-training-state"},
      {"version", kStateVersion},
      {"step", step},
      {"total_steps", total_steps},
      {"epoch", position.epoch},
      {"position", position.position},
      {"lr_scheduler", lrScheduleName(schedule)},
      {"data_rng", data_rng_text.str()},
      {"loss_scaler", nlohmann::json::parse(scaler.toJson())},
      {"smoothed_loss", smoothed_loss},
      {"smoothed_count", smoothed_count},
      {"adam_steps", adam.steps},
      {"parameter_shapes", shapes},
      {"method", config.method},
  };
  writer.writeText("state.json", state.dump(2));
  writer.writeText("config.json", config.toJson());
  last_checkpoint = writer.commit(config.keep);
  last_checkpoint_step = step;
  const CheckpointMetrics metrics{step, last_checkpoint, config.validate_every > 0 ? last_validation_loss : NAN};
  log->write(metrics);
  if (callbacks.on_checkpoint) callbacks.on_checkpoint(metrics);
}

void Trainer::Impl::restoreTrainedTensors(const std::string& path, const std::vector<std::vector<int64_t>>& shapes) {
  const fs::path folder(path);
  if (shapes.size() != parameters.size()) {
    fail(ErrorCode::ShapeMismatch, "checkpoint '" + path + "' trains " + std::to_string(shapes.size()) +
                                       " tensors, this run " + std::to_string(parameters.size()) + " (another method or rank?)");
  }
  const auto trained = readTensors((folder / "trained.safetensors").string());
  {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) {
      const auto it = trained.find(parameterName(i));
      if (it == trained.end()) fail(ErrorCode::MissingKey, "checkpoint '" + path + "': trained.safetensors lacks " + parameterName(i));
      if (it->second.sizes() != parameters[i].sizes()) {
        fail(ErrorCode::ShapeMismatch, "checkpoint '" + path + "': " + parameterName(i) + " has another shape than the run's");
      }
      parameters[i].copy_(it->second);
    }
  }
  if (ema.enabled()) {
    const auto shadow = readTensors((folder / "ema.safetensors").string());
    std::vector<at::Tensor> values;
    for (size_t i = 0; i < parameters.size(); ++i) {
      const auto it = shadow.find("ema." + std::to_string(i));
      if (it == shadow.end()) fail(ErrorCode::MissingKey, "checkpoint '" + path + "': ema.safetensors lacks ema." + std::to_string(i));
      values.push_back(it->second);
    }
    ema.setShadow(values);
  }
}

void Trainer::Impl::restoreWeights(const std::string& path) {
  const nlohmann::json state = readState(path);
  try {
    restoreTrainedTensors(path, state.at("parameter_shapes").get<std::vector<std::vector<int64_t>>>());
    step = state.at("step").get<int64_t>();
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': state.json: " + error.what());
  }
}

int64_t Trainer::Impl::checkpointStep(const std::string& path) {
  const nlohmann::json state = readState(path);
  try {
    return state.at("step").get<int64_t>();
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': state.json: " + error.what());
  }
}

void Trainer::Impl::restoreCheckpoint(const std::string& path) {
  const fs::path folder(path);
  const nlohmann::json state = readState(path);
  try {
    restoreTrainedTensors(path, state.at("parameter_shapes").get<std::vector<std::vector<int64_t>>>());
    restoreAdamwState(*optimizer, parameters, readTensors((folder / "optimizer.safetensors").string()),
                      state.at("adam_steps").get<std::vector<int64_t>>());
    const auto rng = readTensors((folder / "rng.safetensors").string());
    setGeneratorState(generator, rng.at("cpu"));
    if (at::hasCUDA() && rng.count("cuda")) {
      at::Generator cuda = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, device.is_cuda() ? device.index() : 0));
      setGeneratorState(cuda, rng.at("cuda"));
    }
    std::istringstream data_rng_text(state.at("data_rng").get<std::string>());
    data_rng_text >> data_rng;
    if (!data_rng_text) fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': data_rng is malformed");
    batcher->restore({state.at("epoch").get<int64_t>(), state.at("position").get<int64_t>()});
    scaler.fromJson(state.at("loss_scaler").dump());
    smoothed_loss = state.at("smoothed_loss").get<double>();
    smoothed_count = state.at("smoothed_count").get<int64_t>();
    step = state.at("step").get<int64_t>();
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::InvalidFormat, "checkpoint '" + path + "': state.json: " + error.what());
  } catch (const std::out_of_range& error) {
    fail(ErrorCode::MissingKey, "checkpoint '" + path + "': a tensor is missing (" + error.what() + ")");
  }
  last_checkpoint = path;
  last_checkpoint_step = step;
}

std::string Trainer::Impl::exportResult() {
  const int64_t images = static_cast<int64_t>(batcher->items().size());
  const std::string path = (fs::path(config.output) / (config.method == "lora" ? "lora.safetensors" : "model.safetensors")).string();
  if (config.method == "lora") writeLoraFile(path, images);
  else writeModelFile(path, images);
  message("saved " + path);
  return path;
}

void Trainer::Impl::writeLoraFile(const std::string& path, int64_t images) {
  const c10::ScalarType dtype = config.save_precision == "fp32" ? at::kFloat : at::kHalf;
  if (ema.enabled()) ema.swap(parameters);
  try {
    lora->save(path, exportMetadata(config, model_config, step, images), dtype);
  } catch (...) {
    if (ema.enabled()) ema.swap(parameters);
    throw;
  }
  if (ema.enabled()) ema.swap(parameters);
}

void Trainer::Impl::writeModelFile(const std::string& path, int64_t images) {
  const c10::ScalarType dtype = config.save_precision == "fp32" ? at::kFloat : at::kHalf;
  const auto metadata = exportMetadata(config, model_config, step, images);
  if (ema.enabled()) ema.swap(parameters);
  try {
    io::writeLdmCheckpoint(path, model->unet, model->vae, model->text_encoders, model_config, dtype, metadata);
    // PATH.yaml beside it is read back on load: what tensor shapes cannot tell (GroupNorm groups, a text encoder
    // described in the YAML, v-prediction) stays as trained.
    if (const std::string yaml = configYamlOf(config); !yaml.empty()) {
      copyFileAtomically(yaml, fs::path(path).replace_extension(".yaml").string());
    }
  } catch (...) {
    if (ema.enabled()) ema.swap(parameters);
    throw;
  }
  if (ema.enabled()) ema.swap(parameters);
}

}  // namespace gesso::training
