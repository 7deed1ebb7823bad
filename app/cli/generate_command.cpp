// gesso-cli generate: a prompt (or a PNG's stored request) to PNG files; gesso-cli samplers: the names it accepts.
#include "commands.h"

#include "gesso/diffusion/sampler.h"
#include "gesso/diffusion/schedulers.h"
#include "gesso/image/a1111_names.h"
#include "gesso/image/image_io.h"
#include "gesso/pipeline/bundled_model.h"
#include "gesso/pipeline/output.h"
#include "gesso/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

namespace gesso::cli {

namespace {

// Ctrl-C cancels the job: the engine stops before its next network call and no result file is written.
CancelToken interrupt_token;
void onInterrupt(int) { interrupt_token.cancel(); }

struct GenerateOptions {
  pipeline::GenerateRequest request;
  std::string from_png;
  std::string output = "outputs";
  std::string preview_dir;
  double eta = 0;
  std::vector<std::string> loras;  // FILE[:STRENGTH]
};

// --lora FILE:STRENGTH (the strength after the last ':'; FILE alone means strength 1).
pipeline::LoraRef parseLoraOption(const std::string& text) {
  pipeline::LoraRef lora;
  lora.path = text;
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos) {
    const std::string number = text.substr(colon + 1);
    char* end = nullptr;
    const double strength = std::strtod(number.c_str(), &end);
    if (!number.empty() && end == number.c_str() + number.size()) {
      if (!std::isfinite(strength)) fail(ErrorCode::InvalidArgument, "--lora " + text + ": the strength must be finite");
      lora.path = text.substr(0, colon);
      lora.strength = strength;
    }
  }
  if (lora.path.empty()) fail(ErrorCode::InvalidArgument, "--lora " + text + ": no file named (expected FILE:STRENGTH)");
  return lora;
}

// A one-line progress bar on stderr, drawn only when stderr is a terminal.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(fileno(stderr)) != 0) {}
  void update(const pipeline::StepEvent& event, int batch_count) {
    if (!enabled_) return;
    const int width = 30;
    const int done = event.total_steps > 0 ? (event.step + 1) * width / event.total_steps : width;
    std::fprintf(stderr, "\r[%s%s] batch %d/%d%s step %d/%d sigma %.3f ", std::string(done, '#').c_str(),
                 std::string(width - done, '.').c_str(), event.batch_index + 1, batch_count,
                 event.pass == 1 ? " hires" : "", event.step + 1, event.total_steps, event.sigma);
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

void runGenerate(GenerateOptions& options, const CLI::App& command) {
  options.request.loras.clear();
  for (const std::string& text : options.loras) options.request.loras.push_back(parseLoraOption(text));
  pipeline::GenerateRequest request = options.request;
  if (!options.from_png.empty()) {
    // The PNG's request, with every option given on the command line laid over it.
    pipeline::GenerateRequest stored = pipeline::requestFromPng(options.from_png);
    const pipeline::GenerateRequest& given = options.request;
    auto set = [&command](const char* name) { return command.count(name) > 0; };
    if (set("--model")) stored.model = given.model;
    if (set("--config")) stored.config = given.config;
    if (set("--vae")) stored.vae = given.vae;
    if (set("--tokenizer")) stored.tokenizer = given.tokenizer;
    if (set("--prompt")) stored.prompt = given.prompt;
    if (set("--negative")) stored.negative_prompt = given.negative_prompt;
    if (set("--sampler")) stored.sampler = given.sampler;
    if (set("--scheduler")) stored.scheduler = given.scheduler;
    if (set("--steps")) stored.steps = given.steps;
    if (set("--cfg")) stored.cfg_scale = given.cfg_scale;
    if (set("--cfg-rescale")) stored.cfg_rescale = given.cfg_rescale;
    if (set("--seed")) stored.seed = given.seed;
    if (set("--width")) stored.width = given.width;
    if (set("--height")) stored.height = given.height;
    if (set("--batch-size")) stored.batch_size = given.batch_size;
    if (set("--batch-count")) stored.batch_count = given.batch_count;
    if (set("--init-image")) stored.init_image = given.init_image;
    if (set("--strength")) stored.strength = given.strength;
    if (set("--mask")) stored.mask = given.mask;
    if (set("--hires-scale")) stored.hires_scale = given.hires_scale;
    if (set("--hires-strength")) stored.hires_strength = given.hires_strength;
    if (set("--hires-steps")) stored.hires_steps = given.hires_steps;
    if (set("--clip-skip")) stored.clip_skip = given.clip_skip;
    if (set("--zero-terminal-snr")) stored.zero_terminal_snr = given.zero_terminal_snr;
    if (set("--preview-every")) stored.preview_every = given.preview_every;
    if (set("--device")) stored.device = given.device;
    if (set("--precision")) stored.precision = given.precision;
    if (set("--s-noise")) stored.s_noise = given.s_noise;
    if (set("--lora")) stored.loras = given.loras;
    if (set("--lora-dir")) stored.lora_dir = given.lora_dir;
    request = stored;
  }
  if (command.count("--eta") > 0) request.eta = options.eta;
  useBundledModelIfUnset(request, command);
  pipeline::validateRequest(request);
  if (request.preview_every > 0 && options.preview_dir.empty()) {
    options.preview_dir = (std::filesystem::path(options.output) / "previews").string();
  }

  auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
  spdlog::debug("config: {}", model->configSource());
  ProgressBar progress;
  pipeline::GenerateCallbacks callbacks;
  callbacks.cancel = &interrupt_token;
  std::signal(SIGINT, onInterrupt);
  callbacks.on_step = [&](const pipeline::StepEvent& event) { progress.update(event, request.batch_count); };
  int preview_number = 0;
  if (request.preview_every > 0) {
    std::filesystem::create_directories(options.preview_dir);
    callbacks.on_preview = [&](const pipeline::PreviewEvent& event) {
      for (size_t i = 0; i < event.images.size(); ++i) {
        char name[96];
        std::snprintf(name, sizeof name, "preview-b%03d-p%d-s%04d-i%02zu.png", event.batch_index, event.pass, event.step, i);
        image::writePng((std::filesystem::path(options.preview_dir) / name).string(), event.images[i]);
        ++preview_number;
      }
    };
  }
  // Each batch is written as soon as it is decoded, so a crash or kill later in the run keeps the finished ones.
  callbacks.on_batch = [&](const std::vector<pipeline::GeneratedImage>& batch) {
    pipeline::GenerateResult finished{request, batch, model->loras.hashesText()};
    for (const auto& path : pipeline::writeResult(*model, finished, options.output)) std::cout << path << std::endl;
  };
  try {
    pipeline::generate(*model, request, callbacks);
  } catch (...) {
    progress.finish();
    std::signal(SIGINT, SIG_DFL);
    throw;
  }
  std::signal(SIGINT, SIG_DFL);
  progress.finish();
  if (preview_number > 0) spdlog::info("{} previews in {}", preview_number, options.preview_dir);
}

void listSamplers() {
  std::cout << "samplers:\n";
  for (const auto& name : diffusion::samplerNames()) {
    std::cout << "  " << name << "  (" << image::a1111SamplerName(name) << ")\n";
  }
  std::cout << "schedulers:\n";
  for (const auto& name : diffusion::schedulerNames()) {
    std::cout << "  " << name << "  (" << image::a1111ScheduleName(name) << ")\n";
  }
}

}  // namespace

void useBundledModelIfUnset(pipeline::GenerateRequest& request, const CLI::App& command) {
  if (!request.model.empty()) return;
  // No model given: the bundled one (resources/models/gesso-shapes), so a fresh install generates offline.
  request.model = pipeline::bundledModelPath();
  if (request.model.empty()) {
    std::string looked;
    for (const auto& folder : pipeline::bundledModelSearchPaths()) looked += "\n  " + folder;
    fail(ErrorCode::InvalidArgument, "--model is required: no model given and the bundled model (" +
                                         std::string(pipeline::kBundledModelName) + ") was not found in:" + looked);
  }
  // SD's 512 default would tile a 64-pixel model's scenes over the picture.
  if (command.count("--width") == 0) request.width = pipeline::kBundledModelSize;
  if (command.count("--height") == 0) request.height = pipeline::kBundledModelSize;
  spdlog::info("model: {} (bundled), {}x{}", request.model, request.width, request.height);
}

void addModelOptions(CLI::App& command, pipeline::GenerateRequest& request) {
  command.add_option("--model", request.model, "Checkpoint (.safetensors) or diffusers folder (generate: default the bundled gesso-shapes model)");
  command.add_option("--config", request.config, "Model config (LDM/sgm YAML or JSON); default: detected / beside the model");
  command.add_option("--vae", request.vae, "Standalone VAE to use instead of the checkpoint's");
  command.add_option("--tokenizer", request.tokenizer, "bpe_simple_vocab_16e6.txt.gz or a folder with vocab.json + merges.txt");
  command.add_option("--device", request.device, "cpu or cuda[:N]")->capture_default_str();
  command.add_option("--precision", request.precision, "fp32, bf16 (CPU) or fp16 (CUDA)")->capture_default_str();
}

void addGenerateCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<GenerateOptions>();
  pipeline::GenerateRequest& r = options->request;
  auto* generate = app.add_subcommand("generate", "Generate images (txt2img, img2img, inpaint, hires fix) into PNG files");
  addModelOptions(*generate, r);
  generate->add_option("--prompt", r.prompt, "Prompt (A1111 syntax: (word:1.2), [word], BREAK)");
  generate->add_option("--negative", r.negative_prompt, "Negative prompt");
  generate->add_option("--sampler", r.sampler, "Sampler (see `gesso-cli samplers`)")->capture_default_str();
  generate->add_option("--scheduler", r.scheduler, "Scheduler (see `gesso-cli samplers`)")->capture_default_str();
  generate->add_option("--steps", r.steps, "Sampling steps")->capture_default_str();
  generate->add_option("--cfg", r.cfg_scale, "Classifier-free guidance scale")->capture_default_str();
  generate->add_option("--cfg-rescale", r.cfg_rescale, "CFG rescale phi in [0, 1]")->capture_default_str();
  generate->add_option("--seed", r.seed, "Seed (-1: random; batch i uses seed + i)")->capture_default_str();
  generate->add_option("--width", r.width, "Width in pixels (multiple of 8)")->capture_default_str();
  generate->add_option("--height", r.height, "Height in pixels (multiple of 8)")->capture_default_str();
  generate->add_option("--batch-size", r.batch_size, "Images per batch")->capture_default_str();
  generate->add_option("--batch-count", r.batch_count, "Batches")->capture_default_str();
  generate->add_option("--init-image", r.init_image, "img2img source image");
  generate->add_option("--strength", r.strength, "img2img denoising strength")->capture_default_str();
  generate->add_option("--mask", r.mask, "Inpainting mask (white = repaint); needs --init-image");
  generate->add_option("--hires-scale", r.hires_scale, "Hires fix upscale factor (> 1 enables it)")->capture_default_str();
  generate->add_option("--hires-strength", r.hires_strength, "Hires fix denoising strength")->capture_default_str();
  generate->add_option("--hires-steps", r.hires_steps, "Hires fix steps (0: --steps)")->capture_default_str();
  generate->add_option("--eta", options->eta, "Eta for ancestral/SDE/DDIM samplers (default: the sampler's)");
  generate->add_option("--s-noise", r.s_noise, "Noise scale for ancestral/SDE samplers")->capture_default_str();
  generate->add_option("--clip-skip", r.clip_skip, "Text encoder layer from the end (0: the model's default)")->capture_default_str();
  generate->add_flag("--zero-terminal-snr", r.zero_terminal_snr, "Sample over the schedule rescaled to zero terminal SNR");
  generate->add_option("--preview-every", r.preview_every, "Write a latent preview every N steps")->capture_default_str();
  generate->add_option("--preview-dir", options->preview_dir, "Preview folder (default: OUTPUT/previews)");
  generate->add_option("--lora", options->loras, "A LoRA file and its strength, FILE:STRENGTH (repeatable)");
  generate->add_option("--lora-dir", r.lora_dir, "Folder where the prompt's <lora:NAME:weight> tags find NAME.safetensors");
  generate->add_option("--output", options->output, "Output folder")->capture_default_str();
  generate->add_option("--from-png", options->from_png, "Take the request from a PNG (Gesso's exactly, A1111's best effort)");
  generate->callback([&context, options, generate] {
    auto result = captureErrors([&] { runGenerate(*options, *generate); });
    if (!result) reportError(context, result.error());
  });

  auto* samplers = app.add_subcommand("samplers", "List the samplers and schedulers (ComfyUI names, A1111 names)");
  samplers->callback([] { listSamplers(); });
}

}  // namespace gesso::cli
