// gesso-cli train-vae (--data DIR | --shapes-count N --shapes-seed S) --config YAML --output FILE [--device ...]:
// trains an AutoencoderKL from a random init and writes it as a standalone VAE safetensors file (read by --vae).
#include "commands.h"

#include "gesso/training/vae_trainer.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <memory>

namespace gesso::cli {

namespace {

CancelToken* g_interrupt = nullptr;  // Ctrl-C stops after the current step and still writes the VAE

}  // namespace

void addTrainVaeCommand(CLI::App& app, CommandContext& context) {
  auto* command = app.add_subcommand("train-vae", "Train an AutoencoderKL (the first stage) from a random init (or --init) "
                                                  "on a folder of same-size PNG images");
  auto options = std::make_shared<training::VaeTrainOptions>();
  auto* data = command->add_option("--data", options->data, "Folder of PNG images (all one size)");
  auto* shapes = command->add_option("--shapes-count", options->shapes_count,
                                     "Instead of --data: render the first N scenes of `make-dataset shapes` (64x64, "
                                     "default fractions) in memory, the same pixels it writes; needs no image IO");
  data->excludes(shapes);
  command->add_option("--shapes-seed", options->shapes_seed, "Seed of the in-memory scenes (as make-dataset --seed)")
      ->default_val(0)
      ->needs(shapes);
  command->add_option("--device", options->device, "Where to train: cpu, cuda or cuda:N")->default_val("cpu");
  command->add_option("--max-seconds", options->max_seconds,
                      "Stop after this many seconds of training and still write the VAE (0: no limit)")
      ->default_val(0);
  command->add_option("--config", options->config, "LDM/sgm YAML whose first_stage_config describes the VAE")->required();
  command->add_option("--output", options->output, "The .safetensors file to write (LDM VAE names, no prefix)")->required();
  command->add_option("--steps", options->steps, "Optimizer steps")->default_val(2000);
  command->add_option("--batch-size", options->batch_size, "Images per step")->default_val(16);
  command->add_option("--lr", options->lr, "Peak learning rate (AdamW; 10% warmup up to 100 steps, cosine to 10%)")->default_val(1e-3);
  command->add_option("--kl-weight", options->kl_weight, "KL weight relative to the reconstruction sum (LDM: 1e-6)")->default_val(1e-6);
  command->add_option("--seed", options->seed, "Seed of the init and the batches")->default_val(0);
  command->add_flag("--mean-latents", [options](int64_t) { options->sample_posterior = false; },
                    "Decode the posterior mean instead of a sample (a plain autoencoder: faster to train)");
  command->add_option("--log-every", options->log_every, "Steps between progress lines")->default_val(50);
  command->add_option("--init", options->init,
                      "Start from this VAE instead of a random init: a standalone VAE .safetensors (as train-vae writes) or "
                      "a single-file checkpoint (its first_stage_model.* tensors)");
  command->add_flag("--decoder-only", options->decoder_only,
                    "With --init: train only the decoder (and post_quant_conv); the encoder, and so the latent space a "
                    "UNet was trained on, stays as it was");
  command->callback([&context, options, data, shapes] {
    auto result = captureErrors([&] {
      if (data->count() == 0 && shapes->count() == 0) fail(ErrorCode::InvalidArgument, "train-vae needs --data DIR or --shapes-count N");
      CancelToken cancel;
      g_interrupt = &cancel;
      auto previous = std::signal(SIGINT, [](int) {
        if (g_interrupt) g_interrupt->cancel();
      });
      const training::VaeTrainResult trained = training::trainVae(
          *options,
          [](const training::VaeStepMetrics& metrics) {
            spdlog::info("step {}/{}: loss {:.5f} (L1 {:.5f}, KL {:.3f}), lr {:.2e}, {:.1f} images/s, {:.1f} s",
                         metrics.step, metrics.total_steps, metrics.loss, metrics.reconstruction_l1, metrics.kl,
                         metrics.lr, metrics.images_per_second, metrics.seconds);
          },
          &cancel);
      std::signal(SIGINT, previous);
      g_interrupt = nullptr;
      spdlog::info("trained {} parameters for {} steps on {} images in {:.1f} s; final L1 {:.5f}; latent std {:.4f} -> "
                   "scale_factor {:.5f}; wrote {}",
                   trained.parameters, trained.steps, trained.images, trained.seconds, trained.final_reconstruction_l1,
                   trained.latent_std, trained.scale_factor, options->output);
    });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
