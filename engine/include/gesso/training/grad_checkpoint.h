// Gradient checkpointing (activation recomputation, Chen et al. 2016 "Training Deep Nets with Sublinear Memory
// Cost"): a function's forward runs without keeping its activations, and backward runs it again with autograd on.
// Like PyTorch's reentrant torch.utils.checkpoint: gradients of the parameters used inside reach their .grad directly.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace gesso::training {

using CheckpointBody = std::function<at::Tensor(const std::vector<at::Tensor>& inputs)>;

// body(inputs) with its intermediate activations freed; `body` must stay alive until backward has run (keep it in
// the module that calls this) and must be deterministic (no dropout). The autocast state at the call is restored for
// the recomputation. Inputs must be defined.
at::Tensor checkpointed(const CheckpointBody& body, const std::vector<at::Tensor>& inputs);

}  // namespace gesso::training
