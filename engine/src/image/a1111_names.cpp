// A1111 sampler and schedule names ↔ ComfyUI names (see a1111_names.h). Source of the A1111 side:
// modules/sd_samplers_kdiffusion.py, sd_samplers_timesteps.py and sd_schedulers.py of stable-diffusion-webui 1.10.
#include "gesso/image/a1111_names.h"

#include <array>

namespace gesso::image {

namespace {

struct SamplerRow {
  const char* a1111;
  const char* comfy;
  const char* alias;              // A1111's API alias
  const char* automatic_schedule;  // what "Schedule type: Automatic" means for it in A1111 1.9+
};

constexpr std::array<SamplerRow, 16> kSamplers{{
    {"DPM++ 2M", "dpmpp_2m", "k_dpmpp_2m", "karras"},
    {"DPM++ SDE", "dpmpp_sde", "k_dpmpp_sde", "karras"},
    {"DPM++ 2M SDE", "dpmpp_2m_sde", "k_dpmpp_2m_sde", "exponential"},
    {"DPM++ 2S a", "dpmpp_2s_ancestral", "k_dpmpp_2s_a", "karras"},
    {"DPM++ 3M SDE", "dpmpp_3m_sde", "k_dpmpp_3m_sde", "exponential"},
    {"Euler a", "euler_ancestral", "k_euler_a", "normal"},
    {"Euler", "euler", "k_euler", "normal"},
    {"LMS", "lms", "k_lms", "normal"},
    {"Heun", "heun", "k_heun", "normal"},
    {"DPM2", "dpm_2", "k_dpm_2", "normal"},
    {"DPM2 a", "dpm_2_ancestral", "k_dpm_2_a", "normal"},
    {"DPM fast", "dpm_fast", "k_dpm_fast", "normal"},
    {"DPM adaptive", "dpm_adaptive", "k_dpm_ad", "normal"},
    {"LCM", "lcm", "k_lcm", "normal"},
    {"DDIM", "ddim", "ddim", "ddim_uniform"},
    {"UniPC", "uni_pc", "unipc", "normal"},
}};

struct ScheduleRow {
  const char* a1111;
  const char* comfy;  // empty: the sampler's default
  const char* alias;
};

// "Normal" comes before "Uniform" so that "normal" is written as "Normal". A1111's "Uniform" is k-diffusion's
// get_sigmas (evenly spaced timesteps), the same sigmas as ComfyUI's "normal".
constexpr std::array<ScheduleRow, 12> kSchedules{{
    {"Automatic", "", "automatic"},
    {"Normal", "normal", "normal"},
    {"Uniform", "normal", "uniform"},
    {"Karras", "karras", "karras"},
    {"Exponential", "exponential", "exponential"},
    {"Polyexponential", "polyexponential", "polyexponential"},
    {"SGM Uniform", "sgm_uniform", "SGMUniform"},
    {"KL Optimal", "kl_optimal", "kl_optimal"},
    {"Align Your Steps", "align_your_steps", "align_your_steps"},
    {"Simple", "simple", "simple"},
    {"DDIM", "ddim_uniform", "ddim"},
    {"Beta", "beta", "beta"},
}};

const SamplerRow* findSampler(std::string_view name) {
  for (const SamplerRow& row : kSamplers) {
    if (name == row.a1111 || name == row.comfy || name == row.alias) return &row;
  }
  return nullptr;
}

const ScheduleRow* findSchedule(std::string_view name) {
  for (const ScheduleRow& row : kSchedules) {
    if (name == row.a1111 || name == row.alias || (*row.comfy && name == row.comfy)) return &row;
  }
  return nullptr;
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

SamplerChoice samplerFromA1111(std::string_view sampler, const std::string* schedule_type) {
  std::string_view name = sampler;
  const ScheduleRow* schedule = schedule_type ? findSchedule(*schedule_type) : nullptr;
  std::string unknown_schedule = schedule_type && !schedule ? *schedule_type : "";
  // Before 1.9 the schedule was part of the sampler's name; that suffix wins, as in A1111.
  if (!findSampler(name)) {
    for (const ScheduleRow& row : kSchedules) {
      bool stripped = false;
      for (std::string_view option : {std::string_view(row.a1111), std::string_view(row.alias)}) {
        const std::string suffix = " " + std::string(option);
        if (endsWith(name, suffix)) {
          name = name.substr(0, name.size() - suffix.size());
          schedule = &row;
          unknown_schedule.clear();
          stripped = true;
          break;
        }
      }
      if (stripped) break;
    }
  }
  const SamplerRow* row = findSampler(name);
  SamplerChoice choice;
  choice.sampler = row ? row->comfy : std::string(name);
  if (!unknown_schedule.empty()) {
    choice.scheduler = unknown_schedule;
  } else if (schedule && *schedule->comfy) {
    choice.scheduler = schedule->comfy;
  } else if (row && schedule) {  // "Automatic"
    choice.scheduler = row->automatic_schedule;
  } else if (row && !schedule_type) {  // an infotext from before the schedule type existed
    choice.scheduler = choice.sampler == "ddim" ? "ddim_uniform" : "normal";
  }
  return choice;
}

std::string a1111SamplerName(std::string_view comfy_sampler) {
  for (const SamplerRow& row : kSamplers) {
    if (comfy_sampler == row.comfy) return row.a1111;
  }
  return std::string(comfy_sampler);
}

std::string a1111ScheduleName(std::string_view comfy_scheduler) {
  for (const ScheduleRow& row : kSchedules) {
    if (*row.comfy && comfy_scheduler == row.comfy) return row.a1111;
  }
  return std::string(comfy_scheduler);
}

}  // namespace gesso::image
