// Name tables between the diffusers layout and the original LDM/sgm layout, for the UNet, the VAE and the text
// encoders, in both directions (the inverse serves tests and export). Structure-dependent indices (input_blocks.N,
// output_blocks.N, the VAE's reversed up blocks) are computed from the names present, so any depth works.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gesso::io {

enum class TensorOp {
  Copy,
  LinearToConv,  // [out, in] -> [out, in, 1, 1] (diffusers VAE attention -> LDM 1x1 convs); other ranks unchanged
  ConvToLinear,  // [out, in, 1, 1] -> [out, in]
  Transpose,     // [a, b] -> [b, a] (HF text_projection.weight vs open_clip text_projection)
  ConcatRows,    // q, k, v -> in_proj (dim 0)
  ChunkRows,     // in_proj -> q, k or v (chunk `chunk` of `chunks` along dim 0)
};

struct NameMapping {
  std::string target;                // name in the target layout (relative to the component)
  std::vector<std::string> sources;  // names in the source layout (relative to the component)
  TensorOp op = TensorOp::Copy;
  int chunk = 0;
  int chunks = 1;
};

// diffusers -> LDM, names relative to the component. Unknown names raise UnexpectedKey naming them.
std::vector<NameMapping> diffusersUNetToLdm(const std::vector<std::string>& names);
std::vector<NameMapping> diffusersVaeToLdm(const std::vector<std::string>& names);
// transformers' CLIPTextModel(WithProjection) names -> open_clip TextTransformer names (SD2.x, SDXL embedder 1).
std::vector<NameMapping> diffusersClipToOpenClip(const std::vector<std::string>& names);

// LDM -> diffusers (the inverse tables).
std::vector<NameMapping> ldmUNetToDiffusers(const std::vector<std::string>& names);
std::vector<NameMapping> ldmVaeToDiffusers(const std::vector<std::string>& names);
std::vector<NameMapping> openClipToDiffusersClip(const std::vector<std::string>& names);

at::Tensor applyMapping(const NameMapping& mapping, const std::vector<at::Tensor>& sources);
std::vector<int64_t> mappedShape(const NameMapping& mapping, const std::vector<std::vector<int64_t>>& source_shapes);

}  // namespace gesso::io
