// Gradient checkpointing as a custom autograd function that recomputes its body in backward.
#include "gesso/training/grad_checkpoint.h"

#include "autocast_state.h"
#include "gesso/error.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

namespace gesso::training {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
  // `inputs` ends with a dummy that requires grad, so the output is part of the graph even when no real input
  // requires grad (LoRA: the parameters inside the body are the only trainable tensors).
  static variable_list forward(AutogradContext* context, int64_t body_address, at::TensorList inputs) {
    const auto* body = reinterpret_cast<const CheckpointBody*>(body_address);
    context->saved_data["body"] = body_address;
    const AutocastState autocast = currentAutocast();
    context->saved_data["autocast"] = autocast.enabled;
    context->saved_data["autocast_dtype"] = static_cast<int64_t>(autocast.dtype);
    context->save_for_backward(inputs.vec());
    const std::vector<at::Tensor> real(inputs.begin(), inputs.end() - 1);
    return {(*body)(real)};  // autograd is off inside Function::forward: no activations are kept
  }

  static variable_list backward(AutogradContext* context, variable_list grad_outputs) {
    const auto* body = reinterpret_cast<const CheckpointBody*>(context->saved_data["body"].toInt());
    const variable_list saved = context->get_saved_variables();
    std::vector<at::Tensor> inputs;
    for (size_t i = 0; i + 1 < saved.size(); ++i) inputs.push_back(saved[i].detach().requires_grad_(saved[i].requires_grad()));
    at::Tensor output;
    {
      // Backward may run on another thread (CUDA): the forward's autocast state is set again for the recomputation.
      AutocastGuard autocast({context->saved_data["autocast"].toBool(),
                              static_cast<at::ScalarType>(context->saved_data["autocast_dtype"].toInt())});
      at::AutoGradMode grad(true);
      output = (*body)(inputs);
    }
    if (output.requires_grad()) torch::autograd::backward({output}, {grad_outputs[0]});
    variable_list grads{at::Tensor()};  // body_address
    for (const auto& input : inputs) grads.push_back(input.requires_grad() ? input.grad() : at::Tensor());
    grads.push_back(at::Tensor());  // the dummy
    return grads;
  }
};

}  // namespace

at::Tensor checkpointed(const CheckpointBody& body, const std::vector<at::Tensor>& inputs) {
  for (const auto& input : inputs) {
    if (!input.defined()) fail(ErrorCode::InvalidArgument, "gradient checkpointing: an input is undefined");
  }
  std::vector<at::Tensor> all = inputs;
  all.push_back(at::empty({0}, inputs.empty() ? at::TensorOptions() : inputs[0].options().dtype(at::kFloat)).requires_grad_(true));
  return CheckpointFunction::apply(reinterpret_cast<int64_t>(&body), at::TensorList(all))[0];
}

}  // namespace gesso::training
