// PyTorch .ckpt / .pt / .pth files (torch.save's zip format, PyTorch >= 1.6) read without executing anything:
// the strict zip reader, the inert pickle machine, then every tensor checked against its storage before any is built.
// Legacy (pre-1.6 tar or bare pickle) files are refused. Gesso reads these only to convert them to safetensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace gesso::io {

class ZipReader;

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The tensors of a checkpoint as CPU tensors in their stored dtype, in pickle order. A top-level dict holding a
// "state_dict" dict yields that dict (as A1111 does); nested dicts of tensors are flattened with dotted names;
// non-tensor values (global_step, ...) are skipped. Throws GessoError (InvalidFormat naming the file and the
// forbidden global, opcode, entry or tensor; FileNotFound; IoError).
NamedTensors readTorchCheckpoint(const std::string& path);
NamedTensors readTorchCheckpoint(const ZipReader& archive);

// True when the file is named .ckpt/.pt/.pth/.bin or starts like a zip archive.
bool isTorchCheckpointFile(const std::string& path);

}  // namespace gesso::io
