// PNG output with metadata, and requests read back from PNG files.
#include "gesso/pipeline/output.h"

#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "gesso/image/png_metadata.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>

namespace gesso::pipeline {

namespace fs = std::filesystem;

GenerateRequest batchRequest(const GenerateRequest& run, int64_t batch_seed) {
  GenerateRequest request = run;
  request.seed = batch_seed;
  request.batch_count = 1;
  return request;
}

image::GenerationParameters infotextParameters(const GenerateRequest& run, int64_t batch_seed, int index_in_batch,
                                               const std::string& model_hash, const std::string& model_name) {
  image::GenerationParameters p;
  p.prompt = run.prompt;
  p.negative_prompt = run.negative_prompt;
  p.steps = run.steps;
  p.sampler = run.sampler;
  p.scheduler = run.scheduler;
  p.cfg_scale = run.cfg_scale;
  p.seed = batch_seed;
  p.width = run.width;
  p.height = run.height;
  p.model_hash = model_hash;
  p.model = model_name;
  const bool hires = run.hires_scale > 1.0;
  if (!run.init_image.empty()) {
    p.denoising_strength = run.strength;
  } else if (hires) {
    p.denoising_strength = run.hires_strength;
  }
  if (run.clip_skip > 0) p.clip_skip = run.clip_skip;
  if (hires) {
    p.hires_scale = run.hires_scale;
    if (run.hires_steps > 0) p.hires_steps = run.hires_steps;
    p.hires_upscaler = "Latent";
  }
  if (run.batch_size > 1) {
    p.extra["Batch size"] = std::to_string(run.batch_size);
    p.extra["Batch pos"] = std::to_string(index_in_batch);
  }
  auto number = [](double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    return std::string(buffer);
  };
  if (run.eta) p.extra["Eta"] = number(*run.eta);
  if (run.cfg_rescale > 0) p.extra["CFG Rescale phi"] = number(run.cfg_rescale);
  return p;
}

std::vector<std::string> writeResult(LoadedModel& model, const GenerateResult& result, const std::string& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) fail(ErrorCode::IoError, "cannot create the output folder '" + directory + "': " + error.message());
  int next = 0;
  const std::regex numbered(R"(^(\d{5,})-.*\.png$)");
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    // Numbers past 9 digits are not ours (and would overflow int): they are ignored, not a crash.
    if (std::regex_match(name, match, numbered) && match[1].length() <= 9) {
      next = std::max(next, std::stoi(match[1].str()) + 1);
    }
  }
  const std::string hash = model.shortHash();
  const std::string name = model.displayName();
  std::vector<std::string> paths;
  for (const GeneratedImage& generated : result.images) {
    const GenerateRequest request = batchRequest(result.request, generated.seed);
    image::GenerationParameters parameters =
        infotextParameters(result.request, generated.seed, generated.index_in_batch, hash, name);
    if (!result.lora_hashes.empty()) parameters.extra["Lora hashes"] = result.lora_hashes;
    char file_name[64];
    std::snprintf(file_name, sizeof file_name, "%05d-%lld.png", next++, static_cast<long long>(generated.seed));
    const std::string path = (fs::path(directory) / file_name).string();
    image::writePng(path, generated.image, image::generationTextChunks(parameters, requestToJson(request)));
    paths.push_back(path);
  }
  return paths;
}

GenerateRequest requestFromA1111(const image::GenerationParameters& p) {
  GenerateRequest request;
  request.prompt = p.prompt;
  request.negative_prompt = p.negative_prompt;
  request.steps = static_cast<int>(p.steps);
  if (!p.sampler.empty()) request.sampler = p.sampler;
  if (!p.scheduler.empty()) request.scheduler = p.scheduler;
  request.cfg_scale = p.cfg_scale;
  request.seed = p.seed;
  request.width = static_cast<int>(p.width);
  request.height = static_cast<int>(p.height);
  if (p.clip_skip) request.clip_skip = static_cast<int>(*p.clip_skip);
  if (p.hires_scale) {
    request.hires_scale = *p.hires_scale;
    if (p.denoising_strength) request.hires_strength = *p.denoising_strength;
  } else if (p.hires_width && p.hires_height && p.width > 0) {
    request.hires_scale = static_cast<double>(*p.hires_width) / static_cast<double>(p.width);
    if (p.denoising_strength) request.hires_strength = *p.denoising_strength;
  } else if (p.denoising_strength) {
    request.strength = *p.denoising_strength;  // img2img: the init image itself is not in the PNG
  }
  if (p.hires_steps) request.hires_steps = static_cast<int>(*p.hires_steps);
  if (const auto it = p.extra.find("Batch size"); it != p.extra.end()) {
    try {
      request.batch_size = std::stoi(it->second);
    } catch (const std::exception&) {
    }
  }
  if (const auto it = p.extra.find("Eta"); it != p.extra.end()) {
    try {
      request.eta = std::stod(it->second);
    } catch (const std::exception&) {
    }
  }
  if (const auto it = p.extra.find("CFG Rescale phi"); it != p.extra.end()) {
    try {
      request.cfg_rescale = std::stod(it->second);
    } catch (const std::exception&) {
    }
  }
  return request;
}

GenerateRequest requestFromPng(const std::string& path) {
  const image::PngGenerationMetadata metadata = image::readPngGenerationMetadata(path);
  if (metadata.request_json) return requestFromJson(*metadata.request_json);
  if (metadata.parameters) return requestFromA1111(*metadata.parameters);
  fail(ErrorCode::InvalidFormat, "'" + path + "' holds neither a Gesso request nor A1111 parameters");
}

}  // namespace gesso::pipeline
