// Compare: one prompt and seed through several cells (sampler × scheduler × steps × CFG), every cell advancing one
// step at a time together (step-interleaved), each step event tagged with its cell, and a labelled grid image.
#pragma once

#include "gesso/image/image.h"
#include "gesso/pipeline/pipeline.h"

#include <functional>
#include <string>
#include <vector>

namespace gesso::pipeline {

struct CompareCell {
  std::string sampler;
  std::string scheduler;
  int steps = 20;
  double cfg_scale = 7.0;

  std::string label() const;  // "euler karras 20 steps cfg 7"
};

// Every combination, samplers outermost then schedulers, steps, CFG (the grid's reading order).
std::vector<CompareCell> compareCells(const std::vector<std::string>& samplers, const std::vector<std::string>& schedulers,
                                      const std::vector<int>& steps, const std::vector<double>& cfg_scales);

struct CompareCallbacks {
  std::function<void(int cell, const StepEvent& event)> on_step;  // called from the cells' worker threads, one at a time
  const CancelToken* cancel = nullptr;
};

struct CompareResult {
  GenerateRequest base;              // the seed resolved
  std::vector<CompareCell> cells;
  std::vector<image::Image> images;  // one per cell, in cell order
  image::Image grid;                 // columns: sampler × scheduler; rows: steps × CFG; a label strip over each image
};

// Runs base (batch 1, its seed, prompt, size, img2img settings...) once per cell with the cell's sampler, scheduler,
// steps and CFG. A cell waits after each step until every unfinished cell has done as many steps. Throws GessoError
// (Cancelled when the token is set; the first cell's error otherwise).
CompareResult compare(LoadedModel& model, const GenerateRequest& base, const std::vector<CompareCell>& cells,
                      const CompareCallbacks& callbacks = {});

// Draws `text` (upper-cased; letters, digits, " ._-:") in a 3×5 pixel font scaled by `scale`, in white, at (x, y) of
// an RGB image; clipped at the image's edges.
void drawLabel(image::Image& target, const std::string& text, int64_t x, int64_t y, int scale = 2);

}  // namespace gesso::pipeline
