// gesso-cli make-dataset shapes --count N --size 64 --seed S --output DIR: writes the synthetic coloured-shapes
// dataset (PNG + same-name .txt captions) that the bundled model is trained on.
#include "commands.h"

#include "gesso/datasets/shapes.h"

#include <spdlog/spdlog.h>

#include <memory>

namespace gesso::cli {

void addMakeDatasetCommand(CLI::App& app, CommandContext& context) {
  auto* command = app.add_subcommand("make-dataset", "Write a synthetic captioned dataset");
  command->require_subcommand(1);
  auto* shapes = command->add_subcommand(
      "shapes", "One or two coloured shapes (circle, square, triangle, star, ring) on a plain or gradient background, "
                "captioned like \"a large red circle on the left, blue background\"");
  auto options = std::make_shared<datasets::ShapesOptions>();
  auto output = std::make_shared<std::string>();
  shapes->add_option("--count", options->count, "Number of images")->default_val(1000);
  shapes->add_option("--size", options->size, "Image side in pixels")->default_val(64);
  shapes->add_option("--seed", options->seed, "Seed: the same seed writes the same files")->default_val(0);
  shapes->add_option("--two-shapes", options->two_shape_fraction, "Fraction of images with two shapes")->default_val(0.3);
  shapes->add_option("--gradient", options->gradient_fraction, "Fraction of gradient backgrounds")->default_val(0.2);
  shapes->add_option("--output", *output, "Folder to write (created if missing)")->required();
  shapes->callback([&context, options, output] {
    auto result = captureErrors([&] {
      datasets::writeShapesDataset(*options, *output);
      spdlog::info("wrote {} images with captions to {}", options->count, *output);
    });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
