// Compare checkpoints (issue 5, Train tab): one labelled grid of training checkpoints × LoRA strengths × prompts, every
// cell generated from the same request at a seed fixed per prompt. Checkpoints come in as files
// (training::Trainer::exportCheckpoint makes them); this file knows nothing of training.
#pragma once

#include "gesso/cancel_token.h"
#include "gesso/image/image.h"
#include "gesso/pipeline/pipeline.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gesso::pipeline {

struct GridCheckpoint {
  int64_t step = 0;   // shown in the label
  std::string model;  // full run: the exported checkpoint; LoRA run: the base model the adapters apply to
  std::string config;  // optional config file of `model` (LoRA run trained with --config); empty: detected / beside
  std::string vae;     // optional standalone VAE (LoRA run trained with one)
  std::string lora;    // LoRA run: the adapter file (one column per strength); empty: a full run (one column)
};

struct CheckpointGridRequest {
  // Everything but model, vae, prompt, seed and LoRAs: sampler, steps, CFG, size, negative prompt, tokenizer,
  // device, precision. base.seed (>= 0) is the seed of prompt 0; prompt i uses base.seed + i in every column.
  GenerateRequest base;
  std::vector<GridCheckpoint> checkpoints;
  std::vector<double> strengths;  // LoRA checkpoints only
  std::vector<std::string> prompts;
};

struct CheckpointGridCell {
  size_t checkpoint = 0;
  std::optional<double> strength;  // unset for a full-run checkpoint
  size_t prompt = 0;
  int64_t step = 0;
  GenerateRequest request;  // what the cell runs
  std::string label() const;  // "step 100 strength 0.5 prompt 1"
};

// The cells in the grid's reading order: rows are prompts, columns checkpoints (in the given order) × strengths.
// Throws InvalidArgument for no checkpoints, no prompts, no strengths while a LoRA checkpoint is given, or a
// negative seed.
std::vector<CheckpointGridCell> checkpointGridCells(const CheckpointGridRequest& request);
int checkpointGridColumns(const CheckpointGridRequest& request);

struct CheckpointGridCallbacks {
  // After each image: how many are done of how many, and the finished cell (called on the calling thread).
  std::function<void(int done, int total, const CheckpointGridCell& cell)> on_image;
  // Models by their load options (e.g. a cache shared with other jobs); unset: each is loaded once in turn.
  std::function<std::shared_ptr<LoadedModel>(const ModelLoadOptions& options)> load_model;
  const CancelToken* cancel = nullptr;  // checked before every network call
};

struct CheckpointGridResult {
  std::vector<CheckpointGridCell> cells;
  std::vector<image::Image> images;  // one per cell, in cell order
  int columns = 0;
  int rows = 0;
  image::Image grid;  // columns × rows cells, each image under a label strip
};

// Runs every cell (column by column, so each model is loaded once) and draws the grid. Throws GessoError
// (Cancelled when the token is set; the failing cell's error otherwise).
CheckpointGridResult checkpointGrid(const CheckpointGridRequest& request, const CheckpointGridCallbacks& callbacks = {});

}  // namespace gesso::pipeline
