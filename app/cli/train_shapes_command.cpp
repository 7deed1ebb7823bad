// gesso-cli train-shapes (--data DIR | --shapes-count N --shapes-seed S) --config YAML --vae FILE --tokenizer DIR --output FILE: trains the bundled
// model's UNet and text encoder from a random init (datasets/shapes_trainer.h) and writes a single-file checkpoint.
#include "commands.h"

#include "gesso/datasets/shapes_trainer.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <memory>

namespace gesso::cli {

namespace {

CancelToken* g_interrupt = nullptr;  // Ctrl-C stops after the current step and still writes the checkpoint

}  // namespace

void addTrainShapesCommand(CLI::App& app, CommandContext& context) {
  auto* command = app.add_subcommand(
      "train-shapes", "Train a small UNet + CLIP text encoder from a random init on a captioned dataset over a trained "
                      "VAE (the bundled model's recipe) and write a single-file LDM checkpoint");
  auto options = std::make_shared<datasets::ShapesTrainOptions>();
  auto* data = command->add_option("--data", options->data, "Folder of PNG images with .txt captions");
  auto* shapes = command->add_option("--shapes-count", options->shapes_count,
                                     "Instead of --data: render the first N scenes (and captions) of `make-dataset "
                                     "shapes` (64x64, default fractions) in memory; needs no image IO");
  data->excludes(shapes);
  command->add_option("--shapes-seed", options->shapes_seed, "Seed of the in-memory scenes (as make-dataset --seed)")
      ->default_val(0)
      ->needs(shapes);
  command->add_option("--device", options->device, "Where to train: cpu, cuda or cuda:N")->default_val("cpu");
  command->add_option("--config", options->config, "Model YAML (unet_config, first_stage_config, text_config)")->required();
  command->add_option("--vae", options->vae, "The trained VAE (from train-vae)")->required();
  command->add_option("--tokenizer", options->tokenizer, "Folder with vocab.json + merges.txt (from make-tokenizer)")->required();
  command->add_option("--output", options->output, "The .safetensors checkpoint to write")->required();
  command->add_option("--steps", options->steps, "Optimizer steps")->default_val(3000);
  command->add_option("--batch-size", options->batch_size, "Latents per step")->default_val(32);
  command->add_option("--lr", options->lr, "Peak learning rate (AdamW, warmup then cosine to 10%)")->default_val(5e-4);
  command->add_option("--caption-dropout", options->caption_dropout, "Probability a caption becomes \"\"")->default_val(0.1);
  command->add_option("--ema", options->ema_decay, "EMA decay of the written weights (0: off)")->default_val(0.999);
  command->add_option("--max-images", options->max_images, "Use the first N images (0: all)")->default_val(0);
  command->add_option("--max-seconds,--time-budget", options->time_budget_s,
                      "Stop after this many seconds of training and still write the checkpoint (0: no limit)")
      ->default_val(0);
  command->add_option("--seed", options->seed, "Seed of the init, batches and noise")->default_val(0);
  command->add_option("--log-every", options->log_every, "Steps between progress lines")->default_val(50);
  command->callback([&context, options, data, shapes] {
    auto result = captureErrors([&] {
      if (data->count() == 0 && shapes->count() == 0) fail(ErrorCode::InvalidArgument, "train-shapes needs --data DIR or --shapes-count N");
      CancelToken cancel;
      g_interrupt = &cancel;
      auto previous = std::signal(SIGINT, [](int) {
        if (g_interrupt) g_interrupt->cancel();
      });
      const datasets::ShapesTrainResult trained = datasets::trainShapesModel(
          *options,
          [](const datasets::ShapesStepMetrics& metrics) {
            spdlog::info("step {}/{}: loss {:.5f}, lr {:.2e}, {:.1f} images/s, {:.0f} s", metrics.step,
                         metrics.total_steps, metrics.loss, metrics.lr, metrics.images_per_second, metrics.seconds);
          },
          [](const std::string& text) { spdlog::info("{}", text); }, &cancel);
      std::signal(SIGINT, previous);
      g_interrupt = nullptr;
      spdlog::info("trained {} steps ({} UNet + {} text-encoder parameters) in {:.1f} s; final loss {:.5f}; wrote {}",
                   trained.steps, trained.unet_parameters, trained.text_parameters, trained.seconds, trained.final_loss,
                   options->output);
    });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
