// The one place where diffusers names meet LDM/sgm names. The tables restate the well-known correspondence that
// diffusers' own conversion scripts implement (scripts/convert_original_stable_diffusion_to_diffusers.py and
// convert_diffusers_to_original_stable_diffusion.py / convert_diffusers_to_original_sdxl.py): UNet resnets
// (norm1/conv1/time_emb_proj/norm2/conv2/conv_shortcut <-> in_layers.0/in_layers.2/emb_layers.1/out_layers.0/
// out_layers.3/skip_connection), transformer blocks unchanged, VAE mid attention Linear <-> 1x1 conv with the up
// blocks in reverse order, and transformers' CLIP layers <-> open_clip resblocks (q/k/v <-> in_proj).
// Written for Gesso; no code is taken from those scripts.
#include "gesso/io/diffusers_names.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace gesso::io {

namespace {

// A table of name pieces: {diffusers, ldm}. Rows are matched in order on whole dot-separated segments.
using Renames = std::vector<std::pair<std::string, std::string>>;

const Renames kUNetTopLevel = {
    {"conv_in.", "input_blocks.0.0."},
    {"time_embedding.linear_1.", "time_embed.0."},    // 1: SiLU
    {"time_embedding.linear_2.", "time_embed.2."},
    {"add_embedding.linear_1.", "label_emb.0.0."},    // 1: SiLU
    {"add_embedding.linear_2.", "label_emb.0.2."},
    {"conv_norm_out.", "out.0."},                     // 1: SiLU
    {"conv_out.", "out.2."},
};

const Renames kUNetResnet = {
    {"norm1.", "in_layers.0."},          // in_layers.1: SiLU
    {"conv1.", "in_layers.2."},
    {"time_emb_proj.", "emb_layers.1."}, // emb_layers.0: SiLU
    {"norm2.", "out_layers.0."},         // out_layers.1: SiLU, out_layers.2: Dropout
    {"conv2.", "out_layers.3."},
    {"conv_shortcut.", "skip_connection."},
};

const Renames kVaeTopLevel = {
    {"encoder.conv_in.", "encoder.conv_in."},   {"encoder.conv_out.", "encoder.conv_out."},
    {"encoder.conv_norm_out.", "encoder.norm_out."},
    {"decoder.conv_in.", "decoder.conv_in."},   {"decoder.conv_out.", "decoder.conv_out."},
    {"decoder.conv_norm_out.", "decoder.norm_out."},
    {"quant_conv.", "quant_conv."},             {"post_quant_conv.", "post_quant_conv."},
};

const Renames kVaeResnet = {
    {"norm1.", "norm1."}, {"conv1.", "conv1."}, {"norm2.", "norm2."}, {"conv2.", "conv2."},
    {"conv_shortcut.", "nin_shortcut."},
};

// diffusers renamed the VAE attention layers (query/key/value/proj_attn -> to_q/to_k/to_v/to_out.0); both read.
const Renames kVaeAttention = {
    {"group_norm.", "norm."}, {"to_q.", "q."}, {"to_k.", "k."}, {"to_v.", "v."}, {"to_out.0.", "proj_out."},
    {"query.", "q."},         {"key.", "k."},  {"value.", "v."}, {"proj_attn.", "proj_out."},
};

// transformers CLIP encoder layer -> open_clip residual block (q/k/v handled separately).
const Renames kClipLayer = {
    {"self_attn.out_proj.", "attn.out_proj."},
    {"layer_norm1.", "ln_1."},
    {"layer_norm2.", "ln_2."},
    {"mlp.fc1.", "mlp.c_fc."},
    {"mlp.fc2.", "mlp.c_proj."},
};

const Renames kClipTopLevel = {
    {"text_model.embeddings.token_embedding.weight", "token_embedding.weight"},
    {"text_model.embeddings.position_embedding.weight", "positional_embedding"},
    {"text_model.embeddings.position_ids", "position_ids"},  // an HF buffer; ignorable downstream
    {"text_model.final_layer_norm.", "ln_final."},
};

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

enum class Direction { ToLdm, FromLdm };

// Renames the start of `rest` by the first matching row; nullopt if none matches.
std::optional<std::string> rename(const std::string& rest, const Renames& table, Direction direction) {
  for (const auto& [diffusers, ldm] : table) {
    const std::string& from = direction == Direction::ToLdm ? diffusers : ldm;
    const std::string& to = direction == Direction::ToLdm ? ldm : diffusers;
    if (startsWith(rest, from)) return to + rest.substr(from.size());
  }
  return std::nullopt;
}

// Splits "a.12.rest" after `head` ("a.") into {12, "rest"}; nullopt if not numbered there.
std::optional<std::pair<int, std::string>> indexAfter(const std::string& name, const std::string& head) {
  if (!startsWith(name, head)) return std::nullopt;
  size_t end = head.size();
  while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
  if (end == head.size() || end >= name.size() || name[end] != '.') return std::nullopt;
  return std::make_pair(std::stoi(name.substr(head.size(), end - head.size())), name.substr(end + 1));
}

[[noreturn]] void unknownNames(const std::string& what, const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < 20; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > 20) list += ", ... (" + std::to_string(names.size()) + " in all)";
  fail(ErrorCode::UnexpectedKey, std::to_string(names.size()) + " " + what + " tensor name(s) with no mapping: " + list);
}

NameMapping copy(std::string target, std::string source) { return {std::move(target), {std::move(source)}, TensorOp::Copy, 0, 1}; }

// ---- UNet ----------------------------------------------------------------------------------------------------

// Number of resnets per diffusers block ("down_blocks." / "up_blocks."), and which blocks have attentions.
struct BlockCounts {
  std::map<int, int> resnets;
  std::set<int> with_attention;
};

BlockCounts countBlocks(const std::vector<std::string>& names, const std::string& head) {
  BlockCounts counts;
  for (const auto& name : names) {
    auto block = indexAfter(name, head);
    if (!block) continue;
    if (auto resnet = indexAfter(block->second, "resnets.")) {
      counts.resnets[block->first] = std::max(counts.resnets[block->first], resnet->first + 1);
    } else if (startsWith(block->second, "attentions.")) {
      counts.with_attention.insert(block->first);
    }
  }
  return counts;
}

}  // namespace

std::vector<NameMapping> diffusersUNetToLdm(const std::vector<std::string>& names) {
  const BlockCounts down = countBlocks(names, "down_blocks.");
  const BlockCounts up = countBlocks(names, "up_blocks.");
  auto downOffset = [&](int level) {  // input_blocks index of the level's first resnet
    int index = 1;
    for (int k = 0; k < level; ++k) index += (down.resnets.count(k) ? down.resnets.at(k) : 0) + 1;  // + Downsample
    return index;
  };
  auto upOffset = [&](int level) {
    int index = 0;
    for (int k = 0; k < level; ++k) index += up.resnets.count(k) ? up.resnets.at(k) : 0;
    return index;
  };
  std::vector<NameMapping> mappings;
  std::vector<std::string> unknown;
  for (const auto& name : names) {
    std::optional<std::string> target = rename(name, kUNetTopLevel, Direction::ToLdm);
    if (!target) {
      if (auto block = indexAfter(name, "down_blocks.")) {
        const int level = block->first;
        if (auto resnet = indexAfter(block->second, "resnets.")) {
          if (auto inner = rename(resnet->second, kUNetResnet, Direction::ToLdm)) {
            target = "input_blocks." + std::to_string(downOffset(level) + resnet->first) + ".0." + *inner;
          }
        } else if (auto attention = indexAfter(block->second, "attentions.")) {
          target = "input_blocks." + std::to_string(downOffset(level) + attention->first) + ".1." + attention->second;
        } else if (startsWith(block->second, "downsamplers.0.conv.")) {
          const int resnets = down.resnets.count(level) ? down.resnets.at(level) : 0;
          target = "input_blocks." + std::to_string(downOffset(level) + resnets) + ".0.op." +
                   block->second.substr(std::string("downsamplers.0.conv.").size());
        }
      } else if (auto block = indexAfter(name, "up_blocks.")) {
        const int level = block->first;
        if (auto resnet = indexAfter(block->second, "resnets.")) {
          if (auto inner = rename(resnet->second, kUNetResnet, Direction::ToLdm)) {
            target = "output_blocks." + std::to_string(upOffset(level) + resnet->first) + ".0." + *inner;
          }
        } else if (auto attention = indexAfter(block->second, "attentions.")) {
          target = "output_blocks." + std::to_string(upOffset(level) + attention->first) + ".1." + attention->second;
        } else if (startsWith(block->second, "upsamplers.0.conv.")) {
          const int last = upOffset(level) + (up.resnets.count(level) ? up.resnets.at(level) : 1) - 1;
          target = "output_blocks." + std::to_string(last) + (up.with_attention.count(level) ? ".2.conv." : ".1.conv.") +
                   block->second.substr(std::string("upsamplers.0.conv.").size());
        }
      } else if (auto resnet = indexAfter(name, "mid_block.resnets.")) {
        if (auto inner = rename(resnet->second, kUNetResnet, Direction::ToLdm); inner && resnet->first <= 1) {
          target = "middle_block." + std::to_string(resnet->first * 2) + "." + *inner;  // 1: the transformer
        }
      } else if (startsWith(name, "mid_block.attentions.0.")) {
        target = "middle_block.1." + name.substr(std::string("mid_block.attentions.0.").size());
      }
    }
    if (target) {
      mappings.push_back(copy(*target, name));
    } else {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) unknownNames("diffusers UNet", unknown);
  return mappings;
}

std::vector<NameMapping> ldmUNetToDiffusers(const std::vector<std::string>& names) {
  // Walk input_blocks in order: resnets count up within a level until a Downsample (".0.op.") closes it.
  std::set<int> input_indices, output_indices, downsamplers, upsamplers;
  std::map<int, std::string> upsampler_slot;  // output block -> "1" or "2"
  for (const auto& name : names) {
    if (auto block = indexAfter(name, "input_blocks.")) {
      input_indices.insert(block->first);
      if (startsWith(block->second, "0.op.")) downsamplers.insert(block->first);
    } else if (auto block = indexAfter(name, "output_blocks.")) {
      output_indices.insert(block->first);
      for (const char* slot : {"1", "2"}) {
        if (startsWith(block->second, std::string(slot) + ".conv.")) {
          upsamplers.insert(block->first);
          upsampler_slot[block->first] = slot;
        }
      }
    }
  }
  std::map<int, std::pair<int, int>> input_place, output_place;  // block -> (level, position)
  int level = 0, position = 0;
  for (int index : input_indices) {
    if (index == 0) continue;
    input_place[index] = {level, position};
    if (downsamplers.count(index)) {
      ++level;
      position = 0;
    } else {
      ++position;
    }
  }
  level = 0;
  position = 0;
  for (int index : output_indices) {
    output_place[index] = {level, position++};
    if (upsamplers.count(index)) {
      ++level;
      position = 0;
    }
  }

  std::vector<NameMapping> mappings;
  std::vector<std::string> unknown;
  for (const auto& name : names) {
    std::optional<std::string> target = rename(name, kUNetTopLevel, Direction::FromLdm);
    if (!target) {
      if (auto block = indexAfter(name, "input_blocks."); block && block->first > 0) {
        const auto [lvl, pos] = input_place.at(block->first);
        const std::string head = "down_blocks." + std::to_string(lvl) + ".";
        if (startsWith(block->second, "0.op.")) {
          target = head + "downsamplers.0.conv." + block->second.substr(5);
        } else if (startsWith(block->second, "0.")) {
          if (auto inner = rename(block->second.substr(2), kUNetResnet, Direction::FromLdm)) {
            target = head + "resnets." + std::to_string(pos) + "." + *inner;
          }
        } else if (startsWith(block->second, "1.")) {
          target = head + "attentions." + std::to_string(pos) + "." + block->second.substr(2);
        }
      } else if (auto block = indexAfter(name, "output_blocks.")) {
        const auto [lvl, pos] = output_place.at(block->first);
        const std::string head = "up_blocks." + std::to_string(lvl) + ".";
        const std::string slot = upsampler_slot.count(block->first) ? upsampler_slot.at(block->first) : "";
        if (!slot.empty() && startsWith(block->second, slot + ".conv.")) {
          target = head + "upsamplers.0.conv." + block->second.substr(slot.size() + 6);
        } else if (startsWith(block->second, "0.")) {
          if (auto inner = rename(block->second.substr(2), kUNetResnet, Direction::FromLdm)) {
            target = head + "resnets." + std::to_string(pos) + "." + *inner;
          }
        } else if (startsWith(block->second, "1.")) {
          target = head + "attentions." + std::to_string(pos) + "." + block->second.substr(2);
        }
      } else if (auto block = indexAfter(name, "middle_block.")) {
        if (block->first == 1) {
          target = "mid_block.attentions.0." + block->second;
        } else if (auto inner = rename(block->second, kUNetResnet, Direction::FromLdm); inner && (block->first == 0 || block->first == 2)) {
          target = "mid_block.resnets." + std::to_string(block->first / 2) + "." + *inner;
        }
      }
    }
    if (target) {
      mappings.push_back(copy(*target, name));
    } else {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) unknownNames("LDM UNet", unknown);
  return mappings;
}

// ---- VAE -----------------------------------------------------------------------------------------------------

namespace {

int countLevels(const std::vector<std::string>& names, const std::string& head) {
  int levels = 0;
  for (const auto& name : names) {
    if (auto block = indexAfter(name, head)) levels = std::max(levels, block->first + 1);
  }
  return levels;
}

// One side's mid block ("encoder." or "decoder."), both directions.
std::optional<NameMapping> vaeMid(const std::string& side, const std::string& rest, Direction direction, const std::string& name) {
  if (direction == Direction::ToLdm) {
    if (auto resnet = indexAfter(rest, "mid_block.resnets."); resnet && resnet->first <= 1) {
      if (auto inner = rename(resnet->second, kVaeResnet, direction)) {
        return copy(side + "mid.block_" + std::to_string(resnet->first + 1) + "." + *inner, name);
      }
    } else if (startsWith(rest, "mid_block.attentions.0.")) {
      if (auto inner = rename(rest.substr(23), kVaeAttention, direction)) {
        const bool projection = !startsWith(*inner, "norm.");
        return NameMapping{side + "mid.attn_1." + *inner, {name}, projection ? TensorOp::LinearToConv : TensorOp::Copy, 0, 1};
      }
    }
  } else {
    if (startsWith(rest, "mid.block_1.") || startsWith(rest, "mid.block_2.")) {
      if (auto inner = rename(rest.substr(12), kVaeResnet, direction)) {
        return copy(side + "mid_block.resnets." + std::to_string(rest[10] - '1') + "." + *inner, name);
      }
    } else if (startsWith(rest, "mid.attn_1.")) {
      if (auto inner = rename(rest.substr(11), kVaeAttention, direction)) {
        const bool projection = !startsWith(*inner, "group_norm.");
        return NameMapping{side + "mid_block.attentions.0." + *inner, {name}, projection ? TensorOp::ConvToLinear : TensorOp::Copy, 0, 1};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<NameMapping> diffusersVaeToLdm(const std::vector<std::string>& names) {
  const int up_levels = countLevels(names, "decoder.up_blocks.");
  std::vector<NameMapping> mappings;
  std::vector<std::string> unknown;
  for (const auto& name : names) {
    std::optional<NameMapping> mapping;
    if (auto target = rename(name, kVaeTopLevel, Direction::ToLdm)) {
      mapping = copy(*target, name);
    } else if (auto block = indexAfter(name, "encoder.down_blocks.")) {
      const std::string head = "encoder.down." + std::to_string(block->first) + ".";
      if (auto resnet = indexAfter(block->second, "resnets.")) {
        if (auto inner = rename(resnet->second, kVaeResnet, Direction::ToLdm)) {
          mapping = copy(head + "block." + std::to_string(resnet->first) + "." + *inner, name);
        }
      } else if (startsWith(block->second, "downsamplers.0.conv.")) {
        mapping = copy(head + "downsample.conv." + block->second.substr(20), name);
      }
    } else if (auto block = indexAfter(name, "decoder.up_blocks.")) {
      const std::string head = "decoder.up." + std::to_string(up_levels - 1 - block->first) + ".";  // reversed
      if (auto resnet = indexAfter(block->second, "resnets.")) {
        if (auto inner = rename(resnet->second, kVaeResnet, Direction::ToLdm)) {
          mapping = copy(head + "block." + std::to_string(resnet->first) + "." + *inner, name);
        }
      } else if (startsWith(block->second, "upsamplers.0.conv.")) {
        mapping = copy(head + "upsample.conv." + block->second.substr(18), name);
      }
    } else {
      for (const char* side : {"encoder.", "decoder."}) {
        if (startsWith(name, side)) mapping = vaeMid(side, name.substr(8), Direction::ToLdm, name);
      }
    }
    if (mapping) {
      mappings.push_back(*mapping);
    } else {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) unknownNames("diffusers VAE", unknown);
  return mappings;
}

std::vector<NameMapping> ldmVaeToDiffusers(const std::vector<std::string>& names) {
  const int up_levels = countLevels(names, "decoder.up.");
  std::vector<NameMapping> mappings;
  std::vector<std::string> unknown;
  for (const auto& name : names) {
    std::optional<NameMapping> mapping;
    if (auto target = rename(name, kVaeTopLevel, Direction::FromLdm)) {
      mapping = copy(*target, name);
    } else if (auto block = indexAfter(name, "encoder.down.")) {
      const std::string head = "encoder.down_blocks." + std::to_string(block->first) + ".";
      if (auto resnet = indexAfter(block->second, "block.")) {
        if (auto inner = rename(resnet->second, kVaeResnet, Direction::FromLdm)) {
          mapping = copy(head + "resnets." + std::to_string(resnet->first) + "." + *inner, name);
        }
      } else if (startsWith(block->second, "downsample.conv.")) {
        mapping = copy(head + "downsamplers.0.conv." + block->second.substr(16), name);
      }
    } else if (auto block = indexAfter(name, "decoder.up.")) {
      const std::string head = "decoder.up_blocks." + std::to_string(up_levels - 1 - block->first) + ".";
      if (auto resnet = indexAfter(block->second, "block.")) {
        if (auto inner = rename(resnet->second, kVaeResnet, Direction::FromLdm)) {
          mapping = copy(head + "resnets." + std::to_string(resnet->first) + "." + *inner, name);
        }
      } else if (startsWith(block->second, "upsample.conv.")) {
        mapping = copy(head + "upsamplers.0.conv." + block->second.substr(14), name);
      }
    } else {
      for (const char* side : {"encoder.", "decoder."}) {
        if (startsWith(name, side)) mapping = vaeMid(side, name.substr(8), Direction::FromLdm, name);
      }
    }
    if (mapping) {
      mappings.push_back(*mapping);
    } else {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) unknownNames("LDM VAE", unknown);
  return mappings;
}

// ---- Text encoders -------------------------------------------------------------------------------------------

std::vector<NameMapping> diffusersClipToOpenClip(const std::vector<std::string>& names) {
  std::vector<NameMapping> mappings;
  std::vector<std::string> unknown;
  std::set<std::string> qkv_done;
  const std::string layers = "text_model.encoder.layers.";
  for (const auto& name : names) {
    if (auto target = rename(name, kClipTopLevel, Direction::ToLdm)) {
      mappings.push_back(copy(*target, name));
    } else if (name == "text_projection.weight") {
      mappings.push_back({"text_projection", {name}, TensorOp::Transpose, 0, 1});
    } else if (auto layer = indexAfter(name, layers)) {
      const std::string block = "transformer.resblocks." + std::to_string(layer->first) + ".";
      const std::string& rest = layer->second;
      if (auto inner = rename(rest, kClipLayer, Direction::ToLdm)) {
        mappings.push_back(copy(block + *inner, name));
      } else if (rest == "self_attn.q_proj.weight" || rest == "self_attn.k_proj.weight" || rest == "self_attn.v_proj.weight" ||
                 rest == "self_attn.q_proj.bias" || rest == "self_attn.k_proj.bias" || rest == "self_attn.v_proj.bias") {
        const std::string kind = rest.substr(rest.rfind('.') + 1);  // weight or bias
        const std::string target_name = block + "attn.in_proj_" + kind;
        if (qkv_done.insert(target_name).second) {
          const std::string source = layers + std::to_string(layer->first) + ".self_attn.";
          mappings.push_back({target_name, {source + "q_proj." + kind, source + "k_proj." + kind, source + "v_proj." + kind},
                              TensorOp::ConcatRows, 0, 1});
        }
      } else {
        unknown.push_back(name);
      }
    } else {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) unknownNames("transformers CLIP text", unknown);
  // q, k and v must all be present for each in_proj.
  std::set<std::string> present(names.begin(), names.end());
  for (const auto& mapping : mappings) {
    for (const auto& source : mapping.sources) {
      if (!present.count(source)) fail(ErrorCode::MissingKey, "transformers CLIP text: \"" + source + "\" is absent (needed for " + mapping.target + ")");
    }
  }
  return mappings;
}

std::vector<NameMapping> openClipToDiffusersClip(const std::vector<std::string>& names) {
  std::vector<NameMapping> mappings;
  std::vector<std::string> unknown;
  const std::string layers = "text_model.encoder.layers.";
  for (const auto& name : names) {
    if (auto target = rename(name, kClipTopLevel, Direction::FromLdm)) {
      mappings.push_back(copy(*target, name));
    } else if (name == "text_projection") {
      mappings.push_back({"text_projection.weight", {name}, TensorOp::Transpose, 0, 1});
    } else if (name == "logit_scale") {
      continue;  // CLIPTextModelWithProjection has none
    } else if (auto block = indexAfter(name, "transformer.resblocks.")) {
      const std::string layer = layers + std::to_string(block->first) + ".";
      if (auto inner = rename(block->second, kClipLayer, Direction::FromLdm)) {
        mappings.push_back(copy(layer + *inner, name));
      } else if (block->second == "attn.in_proj_weight" || block->second == "attn.in_proj_bias") {
        const std::string kind = block->second == "attn.in_proj_weight" ? "weight" : "bias";
        const char* parts[] = {"q_proj.", "k_proj.", "v_proj."};
        for (int chunk = 0; chunk < 3; ++chunk) {
          mappings.push_back({layer + "self_attn." + parts[chunk] + kind, {name}, TensorOp::ChunkRows, chunk, 3});
        }
      } else {
        unknown.push_back(name);
      }
    } else {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) unknownNames("open_clip text", unknown);
  return mappings;
}

// ---- Tensor operations ---------------------------------------------------------------------------------------

at::Tensor applyMapping(const NameMapping& mapping, const std::vector<at::Tensor>& sources) {
  if (sources.size() != mapping.sources.size() || sources.empty()) {
    fail(ErrorCode::Internal, "mapping for " + mapping.target + " got the wrong number of tensors");
  }
  const at::Tensor& first = sources.front();
  switch (mapping.op) {
    case TensorOp::Copy: return first;
    case TensorOp::LinearToConv:
      return first.dim() == 2 ? first.reshape({first.size(0), first.size(1), 1, 1}) : first;  // [out, in, 1, 1]
    case TensorOp::ConvToLinear:
      return first.dim() == 4 ? first.reshape({first.size(0), first.size(1)}) : first;  // [out, in]
    case TensorOp::Transpose: return first.t().contiguous();  // [b, a]
    case TensorOp::ConcatRows: return at::cat(sources, 0);    // [3 * width, ...]
    case TensorOp::ChunkRows: return first.chunk(mapping.chunks, 0).at(mapping.chunk).contiguous();
  }
  return first;
}

std::vector<int64_t> mappedShape(const NameMapping& mapping, const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<int64_t> shape = shapes.at(0);
  switch (mapping.op) {
    case TensorOp::Copy: break;
    case TensorOp::LinearToConv:
      if (shape.size() == 2) shape = {shape[0], shape[1], 1, 1};
      break;
    case TensorOp::ConvToLinear:
      if (shape.size() == 4) shape = {shape[0], shape[1]};
      break;
    case TensorOp::Transpose:
      if (shape.size() == 2) std::swap(shape[0], shape[1]);
      break;
    case TensorOp::ConcatRows:
      for (size_t i = 1; i < shapes.size(); ++i) shape.at(0) += shapes[i].at(0);
      break;
    case TensorOp::ChunkRows:
      if (!shape.empty()) shape[0] /= mapping.chunks;
      break;
  }
  return shape;
}

}  // namespace gesso::io
