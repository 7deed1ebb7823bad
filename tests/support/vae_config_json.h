// Test-only: an sgm first_stage_config ({embed_dim, ddconfig}, as in the goldens and key manifests) as a VaeConfig.
// The general config reader belongs to the engine's config module.
#pragma once

#include "gesso/models/model_config.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace gesso::test {

inline VaeConfig vaeConfigFromJson(const nlohmann::json& first_stage) {
  const auto& dd = first_stage.at("ddconfig");
  VaeConfig config;
  config.embed_dim = first_stage.at("embed_dim").get<int>();
  config.z_channels = dd.at("z_channels").get<int>();
  config.resolution = dd.at("resolution").get<int>();
  config.in_channels = dd.at("in_channels").get<int>();
  config.out_ch = dd.at("out_ch").get<int>();
  config.ch = dd.at("ch").get<int>();
  config.ch_mult = dd.at("ch_mult").get<std::vector<int>>();
  config.num_res_blocks = dd.at("num_res_blocks").get<int>();
  config.attn_resolutions = dd.at("attn_resolutions").get<std::vector<int>>();
  config.double_z = dd.at("double_z").get<bool>();
  return config;
}

}  // namespace gesso::test
