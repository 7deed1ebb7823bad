// Generated images on disk: PNG files written atomically with AUTOMATIC1111's `parameters` text and Gesso's JSON
// request, file names that sort in batch order, and the way back from such a PNG (ours or A1111's) to a request.
#pragma once

#include "gesso/image/generation_parameters.h"
#include "gesso/pipeline/generate_request.h"
#include "gesso/pipeline/pipeline.h"

#include <string>
#include <vector>

namespace gesso::pipeline {

// The request that reproduces one batch of a run: `run` with the batch's seed and batch_count 1.
GenerateRequest batchRequest(const GenerateRequest& run, int64_t batch_seed);

// The A1111 infotext fields of a run's batch (sampler and schedule as A1111 names them are formatted later by
// image::formatA1111Parameters).
image::GenerationParameters infotextParameters(const GenerateRequest& run, int64_t batch_seed, int index_in_batch,
                                               const std::string& model_hash, const std::string& model_name);

// Writes each image as DIR/NNNNN-SEED.png, NNNNN continuing after the highest number already in DIR (so names sort
// in batch order, across runs too). Creates DIR. Returns the paths written, in order.
std::vector<std::string> writeResult(LoadedModel& model, const GenerateResult& result, const std::string& directory);

// The request stored in a PNG: Gesso's JSON chunk exactly, or else the A1111 `parameters` text (best effort: prompt,
// negative prompt, steps, sampler, schedule, CFG, seed, size, denoising strength, clip skip, hires fields; the model
// is left empty). Throws GessoError(InvalidFormat) when the file has neither.
GenerateRequest requestFromPng(const std::string& path);
// The A1111 half of requestFromPng.
GenerateRequest requestFromA1111(const image::GenerationParameters& parameters);

}  // namespace gesso::pipeline
