// LoRA files for generation: a safetensors file with kohya names (NAME.lora_down.weight / .lora_up.weight / .alpha),
// diffusers/PEFT names (…lora_A.weight / …lora_B.weight, …lora.down.weight / …lora.up.weight, and the older
// attention-processor names) read into low-rank pairs; merged into a model's weights at a strength,
// W += strength · (alpha / rank) · up @ down, with the originals kept so another set can replace it exactly.
#pragma once

#include "gesso/lora/lora_names.h"
#include "gesso/models/clip_text.h"
#include "gesso/models/model_config.h"
#include "gesso/models/unet.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gesso::lora {

// One module's low-rank pair as the file holds it.
struct LoraPair {
  std::string module;           // the module name as written in the file (kohya name or dotted name)
  at::Tensor down;              // [rank, in] or [rank, in, k, k] (file dtype, CPU)
  at::Tensor up;                // [out, rank] or [out, rank, 1, 1]
  std::optional<double> alpha;  // absent: alpha = rank (scale 1), as PEFT and A1111 do
  std::string down_key, up_key; // the file keys, for messages
  int64_t rank() const { return down.size(0); }
  double scale() const { return alpha ? *alpha / static_cast<double>(rank()) : 1.0; }
};

struct LoraFile {
  std::string path;
  std::map<std::string, std::string> metadata;
  std::vector<LoraPair> pairs;  // sorted by module name
};

// Reads and groups the keys. Errors (GessoError naming the file and keys): InvalidFormat for a module with a down but
// no up (or the reverse), a non-scalar alpha, and LyCORIS/DoRA tensors (hada_, lokr_, lora_mid, dora_scale, diff),
// naming a few; ShapeMismatch for ranks that disagree; UnexpectedKey for keys of no known LoRA form, listing a few.
LoraFile readLoraFile(const std::string& path);

// A1111's hash of a LoRA file: the `sshs_model_hash` metadata if present, else the SHA-256 of the file's bytes after
// the safetensors header (sd-scripts' addnet hash). The infotext's "Lora hashes" use the first 12 hex digits.
std::string loraFileHash(const std::string& path);

// The targets the file's modules name. UnexpectedKey when some module matches no layer of this model (listing a few,
// with the count); ShapeMismatch when a pair does not fit its layer (naming the key and both shapes).
struct MatchedPair {
  const LoraPair* pair = nullptr;
  const LoraTarget* target = nullptr;
};
std::vector<MatchedPair> matchTargets(const LoraFile& file, const std::vector<LoraTarget>& targets);

// The weight change of one pair at a strength, float32 on `device`, shaped as the target's rows:
// strength · scale · (up.flatten(1) @ down.flatten(1)); dyn_dim keeps only the first N ranks (A1111's `dyn`, the scale
// still alpha / full rank).
at::Tensor loraDelta(const LoraPair& pair, const LoraTarget& target, double strength, std::optional<int> dyn_dim = {});

// One LoRA of a set: a file and its strengths (A1111: the text-encoder and UNet multipliers).
struct LoraApplication {
  std::string path;
  std::string name;  // as the prompt mentions it (or the file's stem): the infotext's "Lora hashes" alias
  double unet_strength = 1.0;
  double text_encoder_strength = 1.0;
  std::optional<int> dyn_dim;
  bool operator==(const LoraApplication& other) const;
};

// Keeps a model's weights equal to base + the deltas of one set of LoRAs. Applying a different set restores the
// originals first; applying the same set again (same files, unchanged on disk, same strengths) does nothing.
// A strength of 0 adds nothing, so an all-zero set leaves the base weights bit for bit.
class LoraMerger {
 public:
  // Returns true when weights changed. Throws (the model restored to its base weights) on a bad file.
  bool apply(models::UNet& unet, std::vector<models::TextEncoder>& text_encoders, const ModelConfig& config,
             const std::vector<LoraApplication>& set);
  void restore();  // the base weights back; the current set becomes empty
  const std::vector<LoraApplication>& current() const { return current_; }
  // "alias: hash12, …" for A1111's "Lora hashes" (empty for no LoRA); hashes cached per file.
  std::string hashesText();

 private:
  struct FileStamp {
    std::string path;
    int64_t size = 0;
    int64_t modified = 0;
    bool operator==(const FileStamp& other) const {
      return path == other.path && size == other.size && modified == other.modified;
    }
  };
  std::vector<std::pair<at::Tensor, at::Tensor>> originals_;  // parameter, its base value
  std::vector<LoraApplication> current_;
  std::vector<FileStamp> stamps_;
  std::map<std::string, std::pair<FileStamp, std::string>> hashes_;  // path -> (stamp, full hash)
};

}  // namespace gesso::lora
