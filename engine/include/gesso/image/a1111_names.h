// The one table between AUTOMATIC1111's sampler and schedule display names ("DPM++ 2M", "Karras") and the
// ComfyUI / k-diffusion names Gesso uses ("dpmpp_2m", "karras").
#pragma once

#include <string>
#include <string_view>

namespace gesso::image {

struct SamplerChoice {
  std::string sampler;    // ComfyUI name, or the A1111 name as written when Gesso does not know it
  std::string scheduler;  // ComfyUI name, or as written when unknown; empty when nothing says
};

// Reads A1111's "Sampler" and "Schedule type" fields. Handles the pre-1.9 names that carry the schedule
// ("DPM++ 2M Karras"), "Automatic" (the sampler's own default in A1111 1.9+, e.g. karras for DPM++ 2M) and a
// missing schedule type (infotexts before 1.9: k-diffusion's default discretization, i.e. "normal"; ddim_uniform for
// DDIM). `schedule_type` is nullptr when the field is absent. ComfyUI names and A1111's "k_" aliases are accepted.
SamplerChoice samplerFromA1111(std::string_view sampler, const std::string* schedule_type);

// "DPM++ 2M" for "dpmpp_2m"; an unknown name is returned unchanged.
std::string a1111SamplerName(std::string_view comfy_sampler);
// "Karras" for "karras"; an unknown name is returned unchanged.
std::string a1111ScheduleName(std::string_view comfy_scheduler);

}  // namespace gesso::image
