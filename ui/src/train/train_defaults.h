// Training defaults per model family and method (what the Train tab's fields start from), and their reasons.
#pragma once

#include "gesso/models/model_config.h"
#include "gesso/training/train_config.h"

#include <string>

namespace gesso::ui {

// SD1: 512 px, SD2: 768 px, SDXL: 1024 px (their training resolutions). LoRA: lr 1e-4, rank 16 / alpha 16 (32 / 16
// for SDXL, whose attention layers are wider), constant with warm-up; full fine-tune: lr 1e-5 (SDXL 5e-6), cosine,
// EMA 0.9999 and gradient checkpointing for SDXL. Common to all: batch 1, min-SNR γ 5, buckets on, fp32 on the CPU.
training::TrainConfig defaultTrainConfig(ModelFamily family, const std::string& method);

}  // namespace gesso::ui
