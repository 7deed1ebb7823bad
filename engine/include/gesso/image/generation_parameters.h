// Generation parameters in AUTOMATIC1111's "infotext" format (the `parameters` PNG text chunk):
//   prompt lines
//   Negative prompt: negative lines
//   Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, ...
// Values holding ',', ':' or a newline are JSON-quoted ("..."), as A1111 does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace gesso::image {

struct GenerationParameters {
  std::string prompt;
  std::string negative_prompt;
  int64_t steps = 20;
  std::string sampler;    // ComfyUI name ("dpmpp_2m"); see a1111_names.h
  std::string scheduler;  // ComfyUI name ("karras")
  double cfg_scale = 7.0;
  int64_t seed = -1;
  int64_t width = 512;
  int64_t height = 512;
  std::string model_hash;
  std::string model;
  std::optional<double> denoising_strength;
  std::optional<int64_t> clip_skip;
  std::optional<double> hires_scale;          // "Hires upscale"
  std::optional<int64_t> hires_width;         // "Hires resize: WxH"
  std::optional<int64_t> hires_height;
  std::optional<int64_t> hires_steps;         // "Hires steps"
  std::optional<std::string> hires_upscaler;  // "Hires upscaler"
  // Every other "Key: value" pair, unquoted (e.g. "VAE", "Lora hashes", "Version"). A value of a known key that
  // does not parse (e.g. "Steps: many") also lands here, so nothing read is lost.
  std::map<std::string, std::string> extra;

  bool operator==(const GenerationParameters& other) const;
  bool operator!=(const GenerationParameters& other) const { return !(*this == other); }
};

// The infotext A1111 would write for these parameters. Numbers are written in their shortest exact form ("7",
// "7.5"), so parse(format(p)) == p. Lines of the prompts lose surrounding whitespace (A1111 strips them) and a
// prompt line starting with "Negative prompt:" cannot round-trip. Throws GessoError(InvalidArgument) for an extra
// key A1111's syntax cannot carry (it must match \w[\w -/]+) or one that repeats a named field.
std::string formatA1111Parameters(const GenerationParameters& parameters);

// Parses an infotext with A1111's own rules (parse_generation_parameters in modules/infotext_utils.py): the last
// line holds the key-value pairs when it has at least three of them; lines before "Negative prompt:" are the prompt.
// Never throws on odd text: what cannot be understood goes to `extra` or stays in the prompt. Fields the text does
// not name keep the struct's defaults; the scheduler is resolved as samplerFromA1111() describes.
GenerationParameters parseA1111Parameters(const std::string& text);

}  // namespace gesso::image
