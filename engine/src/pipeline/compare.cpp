// Compare cells run on worker threads in lock-step (a barrier after every step) and a labelled grid.
#include "gesso/pipeline/compare.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

namespace gesso::pipeline {

namespace {

// 3×5 glyphs: five rows of three bits, the top row in the highest bits.
uint16_t glyph(char c) {
  static const std::array<uint16_t, 26> letters = {
      0b010101111101101, 0b110101110101110, 0b011100100100011, 0b110101101101110, 0b111100110100111,
      0b111100110100100, 0b011100101101011, 0b101101111101101, 0b111010010010111, 0b001001001101010,
      0b101101110101101, 0b100100100100111, 0b101111111101101, 0b110101101101101, 0b010101101101010,
      0b110101110100100, 0b010101101110011, 0b110101110101101, 0b011100010001110, 0b111010010010010,
      0b101101101101111, 0b101101101101010, 0b101101111111101, 0b101101010101101, 0b101101010010010,
      0b111001010100111};
  static const std::array<uint16_t, 10> digits = {
      0b111101101101111, 0b010110010010111, 0b110001010100111, 0b110001010001110, 0b101101111001001,
      0b111100110001110, 0b011100111101111, 0b111001010010010, 0b111101111101111, 0b111101111001110};
  const unsigned char u = static_cast<unsigned char>(std::toupper(static_cast<unsigned char>(c)));
  if (u >= 'A' && u <= 'Z') return letters[u - 'A'];
  if (u >= '0' && u <= '9') return digits[u - '0'];
  switch (u) {
    case '_': return 0b000000000000111;
    case '.': return 0b000000000000010;
    case '-': return 0b000000111000000;
    case ':': return 0b000010000010000;
    default: return 0;
  }
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

}  // namespace

std::string CompareCell::label() const {
  return sampler + " " + scheduler + " " + std::to_string(steps) + " steps cfg " + number(cfg_scale);
}

std::vector<CompareCell> compareCells(const std::vector<std::string>& samplers, const std::vector<std::string>& schedulers,
                                      const std::vector<int>& steps, const std::vector<double>& cfg_scales) {
  if (samplers.empty() || schedulers.empty() || steps.empty() || cfg_scales.empty()) {
    fail(ErrorCode::InvalidArgument, "compare: samplers, schedulers, steps and CFG scales each need at least one value");
  }
  std::vector<CompareCell> cells;
  for (const auto& sampler : samplers)
    for (const auto& scheduler : schedulers)
      for (int n : steps)
        for (double cfg : cfg_scales) cells.push_back(CompareCell{sampler, scheduler, n, cfg});
  return cells;
}

void drawLabel(image::Image& target, const std::string& text, int64_t x, int64_t y, int scale) {
  int64_t cursor = x;
  for (char c : text) {
    const uint16_t bits = glyph(c);
    for (int row = 0; row < 5; ++row) {
      for (int col = 0; col < 3; ++col) {
        if (!((bits >> (14 - (row * 3 + col))) & 1)) continue;
        for (int dy = 0; dy < scale; ++dy) {
          for (int dx = 0; dx < scale; ++dx) {
            const int64_t px = cursor + col * scale + dx;
            const int64_t py = y + row * scale + dy;
            if (px < 0 || py < 0 || px >= target.width || py >= target.height) continue;
            uint8_t* pixel = target.pixel(px, py);
            for (int channel = 0; channel < std::min(target.channels, 3); ++channel) pixel[channel] = 255;
          }
        }
      }
    }
    cursor += 4 * scale;
  }
}

namespace {

// Greedy word wrap into lines of at most `max_chars` characters; a longer word is cut.
std::vector<std::string> wrapLabel(const std::string& text, size_t max_chars) {
  std::vector<std::string> lines;
  std::string line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(start, end - start).substr(0, max_chars);
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

}  // namespace

GenerateRequest cellRequest(const GenerateRequest& base, const CompareCell& cell) {
  GenerateRequest request = base;
  request.sampler = cell.sampler;
  request.scheduler = cell.scheduler;
  request.steps = cell.steps;
  request.cfg_scale = cell.cfg_scale;
  return request;
}

CompareResult compare(LoadedModel& model, const GenerateRequest& base_in, const std::vector<CompareCell>& cells,
                      const CompareCallbacks& callbacks, const CompareOptions& options) {
  if (cells.empty()) fail(ErrorCode::InvalidArgument, "compare: no cells");
  CompareResult result;
  result.base = base_in;
  result.base.batch_size = 1;
  result.base.batch_count = 1;
  if (result.base.seed < 0) {
    // Resolve the seed once so every cell starts from the same noise.
    GenerateRequest probe = result.base;
    probe.steps = 1;
    validateRequest(probe);
    std::random_device device;
    result.base.seed = static_cast<int64_t>(device() % 4294967295U);
  }
  result.cells = cells;
  std::vector<GenerateRequest> requests;
  for (const CompareCell& cell : cells) {
    GenerateRequest request = cellRequest(result.base, cell);
    validateRequest(request);  // every cell checked before any runs
    requests.push_back(request);
  }

  using Clock = std::chrono::steady_clock;
  const size_t count = cells.size();
  std::mutex mutex;
  std::condition_variable changed;
  std::mutex turn;  // held by the one cell computing; the others wait for it (fair timings, no oversubscription)
  std::vector<int> reported(count, 0);
  std::vector<bool> finished(count, false);
  std::vector<std::exception_ptr> errors(count);
  std::vector<GenerateResult> results(count);
  result.cell_ms.assign(count, 0.0);
  result.step_latents.assign(count, {});
  CancelToken stop;  // set when any cell fails, so the others stop too
  auto stopped = [&] { return stop.isCancelled() || (callbacks.cancel && callbacks.cancel->isCancelled()); };

  auto worker = [&](size_t index) {
    std::unique_lock<std::mutex> my_turn(turn, std::defer_lock);
    Clock::time_point turn_started;
    auto takeTurn = [&] {
      my_turn.lock();
      turn_started = Clock::now();
    };
    auto endTurn = [&] {
      result.cell_ms[index] += std::chrono::duration<double, std::milli>(Clock::now() - turn_started).count();
      my_turn.unlock();
    };
    GenerateCallbacks cell_callbacks;
    // The caller's token is checked before every network call; another cell's failure stops this one at its next
    // step boundary.
    cell_callbacks.cancel = callbacks.cancel ? callbacks.cancel : &stop;
    cell_callbacks.on_step = [&, index](const StepEvent& event) {
      endTurn();
      if (options.keep_step_latents == KeepStepLatents::Yes && event.pass == 0) {
        result.step_latents[index].push_back(StepLatent{event.step, event.sigma, event.x.detach().to(at::kFloat).cpu().clone(),
                                                        event.denoised.detach().to(at::kFloat).cpu().clone()});
      }
      {
        std::unique_lock<std::mutex> lock(mutex);
        if (callbacks.on_time) callbacks.on_time(static_cast<int>(index), event.step, result.cell_ms[index]);
        if (callbacks.on_step) callbacks.on_step(static_cast<int>(index), event);
        reported[index] = event.step + 1 + (event.pass == 1 ? 1000000 : 0);
        changed.notify_all();
        changed.wait(lock, [&] {
          if (stopped()) return true;
          for (size_t j = 0; j < count; ++j) {
            if (!finished[j] && reported[j] < reported[index]) return false;
          }
          return true;
        });
      }
      if (stopped()) fail(ErrorCode::Cancelled, "the compare job was stopped");
      takeTurn();
    };
    // Previews come after the step callback (the barrier) and are computed in the cell's turn.
    cell_callbacks.on_preview = [&, index](const PreviewEvent& event) {
      if (!callbacks.on_preview) return;
      std::lock_guard<std::mutex> lock(mutex);
      callbacks.on_preview(static_cast<int>(index), event);
    };
    try {
      takeTurn();
      results[index] = generate(model, requests[index], cell_callbacks);
    } catch (...) {
      errors[index] = std::current_exception();
      stop.cancel();
    }
    if (my_turn.owns_lock()) endTurn();
    std::lock_guard<std::mutex> lock(mutex);
    finished[index] = true;
    changed.notify_all();
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < count; ++i) threads.emplace_back(worker, i);
  for (auto& thread : threads) thread.join();
  if (callbacks.cancel && callbacks.cancel->isCancelled()) fail(ErrorCode::Cancelled, "the compare job was cancelled");
  // The first real failure (a cell stopped because of it reports Cancelled).
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& error : errors) {
      if (!error) continue;
      try {
        std::rethrow_exception(error);
      } catch (const GessoError& e) {
        if (pass == 0 && e.error().code == ErrorCode::Cancelled) continue;
        throw;
      }
    }
  }

  for (auto& cell_result : results) result.images.push_back(std::move(cell_result.images.at(0).image));
  std::vector<std::string> labels;
  for (const auto& cell : cells) labels.push_back(cell.label());
  result.grid = compareGrid(cells, result.images, labels);
  return result;
}

image::Image labelledGrid(const std::vector<image::Image>& images, const std::vector<std::string>& label_texts, int columns) {
  if (images.empty() || label_texts.size() != images.size() || columns <= 0 ||
      images.size() % static_cast<size_t>(columns) != 0) {
    fail(ErrorCode::InvalidArgument, "labelled grid: needs one label per image and whole rows of `columns` images");
  }
  for (const auto& image : images) {
    if (image.width != images[0].width || image.height != images[0].height) {
      fail(ErrorCode::ShapeMismatch, "labelled grid: every image must have the same size");
    }
  }
  // A label strip over each image, its words wrapped to the cell's width (the 3x5 font at scale 2 where cells are
  // wide enough, else scale 1); every strip as tall as the longest label.
  const int64_t cell_width = images[0].width;
  const int label_scale = cell_width >= 160 ? 2 : 1;
  const size_t max_chars = static_cast<size_t>(std::max<int64_t>(1, (cell_width - 4) / (4 * label_scale)));
  std::vector<std::vector<std::string>> labels;
  size_t label_lines = 1;
  for (const auto& text : label_texts) {
    labels.push_back(wrapLabel(text, max_chars));
    label_lines = std::max(label_lines, labels.back().size());
  }
  const int64_t line_height = 6 * label_scale;
  const int64_t label_height = 4 + static_cast<int64_t>(label_lines) * line_height;
  const int64_t cell_height = images[0].height + label_height;
  const int64_t rows = static_cast<int64_t>(images.size()) / columns;
  image::Image grid = image::makeImage(cell_width * columns, cell_height * rows, 3);
  for (size_t i = 0; i < images.size(); ++i) {
    const int64_t left = static_cast<int64_t>(i % static_cast<size_t>(columns)) * cell_width;
    const int64_t top = static_cast<int64_t>(i / static_cast<size_t>(columns)) * cell_height;
    const image::Image& source = images[i];
    for (int64_t y = 0; y < source.height; ++y) {
      for (int64_t x = 0; x < source.width; ++x) {
        const uint8_t* from = source.pixel(x, y);
        uint8_t* to = grid.pixel(left + x, top + label_height + y);
        for (int c = 0; c < 3; ++c) to[c] = from[std::min(c, source.channels - 1)];
      }
    }
    image::Image strip = image::makeImage(cell_width, label_height, 3);
    for (size_t line = 0; line < labels[i].size(); ++line) {
      drawLabel(strip, labels[i][line], 2, 2 + static_cast<int64_t>(line) * line_height, label_scale);
    }
    for (int64_t y = 0; y < label_height; ++y) {
      for (int64_t x = 0; x < cell_width; ++x) {
        const uint8_t* from = strip.pixel(x, y);
        uint8_t* to = grid.pixel(left + x, top + y);
        for (int c = 0; c < 3; ++c) to[c] = from[c];
      }
    }
  }
  return grid;
}

image::Image compareGrid(const std::vector<CompareCell>& cells, const std::vector<image::Image>& images,
                         const std::vector<std::string>& label_texts) {
  const size_t count = cells.size();
  if (count == 0 || images.size() != count || label_texts.size() != count) {
    fail(ErrorCode::InvalidArgument, "compare grid: needs one image and one label per cell");
  }
  // One column per (sampler, scheduler), one row per (steps, CFG): the cells come column by column.
  size_t rows = 1;
  while (rows < count && !(cells[rows].sampler != cells[0].sampler || cells[rows].scheduler != cells[0].scheduler)) {
    ++rows;
  }
  if (count % rows != 0) rows = 1;
  const size_t columns = count / rows;
  std::vector<image::Image> by_row;
  std::vector<std::string> labels_by_row;
  for (size_t row = 0; row < rows; ++row) {
    for (size_t column = 0; column < columns; ++column) {
      by_row.push_back(images[column * rows + row]);
      labels_by_row.push_back(label_texts[column * rows + row]);
    }
  }
  return labelledGrid(by_row, labels_by_row, static_cast<int>(columns));
}

}  // namespace gesso::pipeline
