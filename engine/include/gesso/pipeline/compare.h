// Compare: one prompt and seed through several cells (sampler × scheduler × steps × CFG), every cell advancing one
// step at a time together (step-interleaved), each step event tagged with its cell, and a labelled grid image.
#pragma once

#include "gesso/image/image.h"
#include "gesso/pipeline/fork.h"
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

// The request a cell runs: base with the cell's sampler, scheduler, steps and CFG (for "open in Generate" and forks).
GenerateRequest cellRequest(const GenerateRequest& base, const CompareCell& cell);

struct CompareCallbacks {
  std::function<void(int cell, const StepEvent& event)> on_step;  // called from the cells' worker threads, one at a time
  // Every base.preview_every steps of a cell (and its last): latentPreviewImages of its denoised estimate, tagged with
  // the step (PreviewEvent::step, 0-based); called like on_step.
  std::function<void(int cell, const PreviewEvent& event)> on_preview;
  // After each step of a cell (just before on_step): the time the cell has computed so far (ms, as CompareResult::cell_ms).
  std::function<void(int cell, int step, double cell_ms)> on_time;
  const CancelToken* cancel = nullptr;
};

enum class KeepStepLatents { No, Yes };  // Yes: CompareResult::step_latents holds every step of every cell (forks)

struct CompareOptions {
  KeepStepLatents keep_step_latents = KeepStepLatents::Yes;
};

struct CompareResult {
  GenerateRequest base;              // the seed resolved
  std::vector<CompareCell> cells;
  std::vector<image::Image> images;  // one per cell, in cell order
  // Per cell: the time it computed (ms: text encoding, its steps, decoding; cells take turns, so no cell's time
  // includes another's work or the waits between steps).
  std::vector<double> cell_ms;
  // Per cell, per first-pass step: the latent at the start of that step and its estimate (CompareOptions).
  std::vector<std::vector<StepLatent>> step_latents;
  image::Image grid;                 // columns: sampler × scheduler; rows: steps × CFG; a label strip over each image
};

// Runs base (batch 1, its seed, prompt, size, img2img settings...) once per cell with the cell's sampler, scheduler,
// steps and CFG. A cell waits after each step until every unfinished cell has done as many steps, and the cells take
// turns (one computes at a time), so each cell's time is its own. Throws GessoError (Cancelled when the token is set;
// the first cell's error otherwise).
CompareResult compare(LoadedModel& model, const GenerateRequest& base, const std::vector<CompareCell>& cells,
                      const CompareCallbacks& callbacks = {}, const CompareOptions& options = {});

// `images` (equal sizes, row-major) in `columns` columns, each under a strip with its label (3×5 font, words wrapped
// to the cell's width); used by compare, compare checkpoints and `gesso-cli grid`.
image::Image labelledGrid(const std::vector<image::Image>& images, const std::vector<std::string>& labels, int columns);

// The labelled grid of `images` (one per cell, equal sizes) in compare()'s layout: one column per (sampler,
// scheduler), one row per (steps, CFG), each image under a strip with labels[i] (e.g. cell.label() plus its time).
image::Image compareGrid(const std::vector<CompareCell>& cells, const std::vector<image::Image>& images,
                         const std::vector<std::string>& labels);

// Draws `text` (upper-cased; letters, digits, " ._-:") in a 3×5 pixel font scaled by `scale`, in white, at (x, y) of
// an RGB image; clipped at the image's edges.
void drawLabel(image::Image& target, const std::string& text, int64_t x, int64_t y, int scale = 2);

}  // namespace gesso::pipeline
