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

std::vector<std::string> wrapWords(const std::string& text, size_t max_chars) {
  std::vector<std::string> lines;
  std::string line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start).substr(0, max_chars);
    if (!line.empty() && line.size() + 1 + word.size() > max_chars) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

void copyInto(image::Image& target, const image::Image& source, int64_t left, int64_t top) {
  for (int64_t y = 0; y < source.height; ++y) {
    for (int64_t x = 0; x < source.width; ++x) {
      const uint8_t* from = source.pixel(x, y);
      uint8_t* to = target.pixel(left + x, top + y);
      for (int c = 0; c < 3; ++c) to[c] = from[std::min(c, source.channels - 1)];
    }
  }
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

image::Image labelledGrid(const std::vector<image::Image>& images, const std::vector<std::string>& labels, int columns) {
  if (images.empty() || labels.size() != images.size() || columns <= 0 || images.size() % static_cast<size_t>(columns) != 0) {
    fail(ErrorCode::InvalidArgument, "labelled grid: needs one label per image and whole rows of `columns` images");
  }
  for (const auto& image : images) {
    if (image.width != images[0].width || image.height != images[0].height) {
      fail(ErrorCode::ShapeMismatch, "labelled grid: every image must have the same size");
    }
  }
  const int64_t rows = static_cast<int64_t>(images.size()) / columns;
  const int64_t cell_width = images[0].width;
  const int label_scale = cell_width >= 160 ? 2 : 1;  // the 3x5 font doubled where cells are wide enough
  const size_t max_chars = static_cast<size_t>(std::max<int64_t>(1, (cell_width - 4) / (4 * label_scale)));
  std::vector<std::vector<std::string>> lines;
  size_t line_count = 1;
  for (const auto& text : labels) {
    lines.push_back(wrapWords(text, max_chars));
    line_count = std::max(line_count, lines.back().size());
  }
  const int64_t line_height = 6 * label_scale;
  const int64_t label_height = 4 + static_cast<int64_t>(line_count) * line_height;
  const int64_t cell_height = images[0].height + label_height;
  image::Image grid = image::makeImage(cell_width * columns, cell_height * rows, 3);
  for (size_t i = 0; i < images.size(); ++i) {
    const int64_t left = static_cast<int64_t>(i % static_cast<size_t>(columns)) * cell_width;
    const int64_t top = static_cast<int64_t>(i / static_cast<size_t>(columns)) * cell_height;
    copyInto(grid, images[i], left, top + label_height);
    image::Image strip = image::makeImage(cell_width, label_height, 3);
    for (size_t line = 0; line < lines[i].size(); ++line) {
      drawLabel(strip, lines[i][line], 2, 2 + static_cast<int64_t>(line) * line_height, label_scale);
    }
    copyInto(grid, strip, left, top);
  }
  return grid;
}

}  // namespace gesso::pipeline
