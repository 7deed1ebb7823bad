// Compare checkpoints (see checkpoint_grid.h): the cells, running them model by model, and the labelled grid.
#include "gesso/pipeline/checkpoint_grid.h"

#include "gesso/error.h"
#include "gesso/pipeline/compare.h"

#include <algorithm>
#include <cstdio>

namespace gesso::pipeline {

namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

}  // namespace

std::string CheckpointGridCell::label() const {
  std::string text = "step " + std::to_string(step);
  if (strength) text += " strength " + number(*strength);
  return text + " prompt " + std::to_string(prompt + 1);
}

int checkpointGridColumns(const CheckpointGridRequest& request) {
  int columns = 0;
  for (const auto& checkpoint : request.checkpoints) {
    columns += checkpoint.lora.empty() ? 1 : static_cast<int>(request.strengths.size());
  }
  return columns;
}

std::vector<CheckpointGridCell> checkpointGridCells(const CheckpointGridRequest& request) {
  if (request.checkpoints.empty()) fail(ErrorCode::InvalidArgument, "compare checkpoints: no checkpoint given");
  if (request.prompts.empty()) fail(ErrorCode::InvalidArgument, "compare checkpoints: no prompt given");
  if (request.base.seed < 0) fail(ErrorCode::InvalidArgument, "compare checkpoints: the seed must be fixed (>= 0)");
  const bool any_lora = std::any_of(request.checkpoints.begin(), request.checkpoints.end(),
                                    [](const GridCheckpoint& c) { return !c.lora.empty(); });
  if (any_lora && request.strengths.empty()) fail(ErrorCode::InvalidArgument, "compare checkpoints: no LoRA strength given");

  // Columns first (checkpoint, then strength), so that cell = row * columns + column.
  struct Column {
    size_t checkpoint;
    std::optional<double> strength;
  };
  std::vector<Column> columns;
  for (size_t c = 0; c < request.checkpoints.size(); ++c) {
    if (request.checkpoints[c].lora.empty()) {
      columns.push_back({c, std::nullopt});
    } else {
      for (double strength : request.strengths) columns.push_back({c, strength});
    }
  }
  std::vector<CheckpointGridCell> cells;
  for (size_t p = 0; p < request.prompts.size(); ++p) {
    for (const Column& column : columns) {
      const GridCheckpoint& checkpoint = request.checkpoints[column.checkpoint];
      CheckpointGridCell cell;
      cell.checkpoint = column.checkpoint;
      cell.strength = column.strength;
      cell.prompt = p;
      cell.step = checkpoint.step;
      cell.request = request.base;
      cell.request.model = checkpoint.model;
      cell.request.vae = checkpoint.vae;
      cell.request.config = checkpoint.config;
      cell.request.prompt = request.prompts[p];
      cell.request.seed = request.base.seed + static_cast<int64_t>(p);
      cell.request.batch_size = 1;
      cell.request.batch_count = 1;
      cell.request.loras.clear();
      if (column.strength) cell.request.loras.push_back({checkpoint.lora, *column.strength});
      cells.push_back(std::move(cell));
    }
  }
  return cells;
}

CheckpointGridResult checkpointGrid(const CheckpointGridRequest& request, const CheckpointGridCallbacks& callbacks) {
  CheckpointGridResult result;
  result.cells = checkpointGridCells(request);
  result.columns = checkpointGridColumns(request);
  result.rows = static_cast<int>(request.prompts.size());
  result.images.resize(result.cells.size());

  // Column by column: a column's cells share one model (and one LoRA set), loaded or merged once.
  std::vector<size_t> order;
  for (int column = 0; column < result.columns; ++column) {
    for (int row = 0; row < result.rows; ++row) order.push_back(static_cast<size_t>(row * result.columns + column));
  }
  std::shared_ptr<LoadedModel> model;
  GenerateCallbacks generate_callbacks;
  generate_callbacks.cancel = callbacks.cancel;
  int done = 0;
  for (size_t index : order) {
    const CheckpointGridCell& cell = result.cells[index];
    if (callbacks.cancel && callbacks.cancel->isCancelled()) fail(ErrorCode::Cancelled, "compare checkpoints cancelled");
    const ModelLoadOptions options = ModelLoadOptions::fromRequest(cell.request);
    if (!model || !(model->options() == options)) {
      model.reset();  // the previous checkpoint's networks go before the next one's are loaded
      model = callbacks.load_model ? callbacks.load_model(options) : LoadedModel::load(options);
    }
    GenerateResult generated = generate(*model, cell.request, generate_callbacks);
    result.images[index] = std::move(generated.images.at(0).image);
    ++done;
    if (callbacks.on_image) callbacks.on_image(done, static_cast<int>(result.cells.size()), cell);
  }
  std::vector<std::string> labels;
  for (const auto& cell : result.cells) labels.push_back(cell.label());
  result.grid = labelledGrid(result.images, labels, result.columns);
  return result;
}

}  // namespace gesso::pipeline
