// Preconditioning coefficients for eps-, v- and EDM-parameterised networks (see scalings.h for the formulas).
#include "gesso/diffusion/scalings.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

namespace gesso::diffusion {

const char* parameterizationName(Parameterization parameterization) {
  switch (parameterization) {
    case Parameterization::Epsilon:
      return "eps";
    case Parameterization::Velocity:
      return "v";
    case Parameterization::Edm:
      return "edm";
  }
  return "unknown";
}

Scalings computeScalings(Parameterization parameterization, const at::Tensor& sigma, double sigma_data) {
  if (!sigma.defined() || !at::isFloatingType(sigma.scalar_type())) {
    fail(ErrorCode::InvalidArgument, "scalings: sigma must be a floating-point tensor");
  }
  if (!(sigma_data > 0)) fail(ErrorCode::InvalidArgument, "scalings: sigma_data must be positive");
  const double data_variance = sigma_data * sigma_data;
  const at::Tensor total_variance = sigma * sigma + data_variance;  // σ² + σ_d²
  Scalings scalings;
  scalings.c_in = total_variance.rsqrt();
  switch (parameterization) {
    case Parameterization::Epsilon:
      scalings.c_skip = at::ones_like(sigma);
      scalings.c_out = -sigma;
      break;
    case Parameterization::Velocity:
      scalings.c_skip = total_variance.reciprocal() * data_variance;
      scalings.c_out = -sigma * sigma_data * scalings.c_in;
      break;
    case Parameterization::Edm:
      scalings.c_skip = total_variance.reciprocal() * data_variance;
      scalings.c_out = sigma * sigma_data * scalings.c_in;
      break;
  }
  return scalings;
}

at::Tensor edmNoiseCondition(const at::Tensor& sigma) { return 0.25 * sigma.log(); }

}  // namespace gesso::diffusion
