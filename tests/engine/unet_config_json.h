// Test-only: fills a UNetConfig from sgm UNetModel constructor kwargs as JSON (the goldens' `config` and the key
// manifests' `unet_config`). The general config reader belongs to the engine's config module.
#pragma once

#include "gesso/models/model_config.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace gesso::test {

// An int or a list of ints; an int stands for every level.
inline std::vector<int> intOrList(const nlohmann::json& value, size_t levels) {
  if (value.is_array()) return value.get<std::vector<int>>();
  return std::vector<int>(levels, value.get<int>());
}

inline UNetConfig unetConfigFromKwargs(const nlohmann::json& kwargs) {
  UNetConfig config;
  config.in_channels = kwargs.at("in_channels").get<int>();
  config.out_channels = kwargs.at("out_channels").get<int>();
  config.model_channels = kwargs.at("model_channels").get<int>();
  config.channel_mult = kwargs.at("channel_mult").get<std::vector<int>>();
  const size_t levels = config.channel_mult.size();
  config.num_res_blocks = intOrList(kwargs.at("num_res_blocks"), levels);
  config.attention_resolutions = kwargs.at("attention_resolutions").get<std::vector<int>>();
  config.num_heads = kwargs.value("num_heads", -1);
  config.num_head_channels = kwargs.value("num_head_channels", -1);
  config.transformer_depth = intOrList(kwargs.value("transformer_depth", nlohmann::json(1)), levels);
  config.transformer_depth_middle = kwargs.value("transformer_depth_middle", -1);
  config.context_dim = kwargs.at("context_dim").get<int>();
  config.use_linear_in_transformer = kwargs.value("use_linear_in_transformer", false);
  config.adm_in_channels = kwargs.value("adm_in_channels", 0);
  return config;
}

}  // namespace gesso::test
