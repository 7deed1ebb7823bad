// The regularized incomplete beta function and its inverse, for the "beta" scheduler (scipy.stats.beta.ppf).
#include "gesso/diffusion/schedulers.h"

#include "gesso/error.h"

#include <cmath>
#include <limits>

namespace gesso::diffusion {
namespace {

// Continued fraction for I_x(a, b) (modified Lentz), valid and fast for x < (a + 1) / (a + b + 2).
double incompleteBetaFraction(double x, double a, double b) {
  const double tiny = 1e-300;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double result = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    // Even term.
    double coefficient = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + coefficient * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + coefficient / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    result *= d * c;
    // Odd term.
    coefficient = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + coefficient * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + coefficient / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    result *= delta;
    if (std::fabs(delta - 1.0) < 1e-16) break;
  }
  return result;
}

}  // namespace

double regularizedIncompleteBeta(double x, double a, double b) {
  if (!(a > 0 && b > 0)) fail(ErrorCode::InvalidArgument, "incomplete beta: a and b must be positive");
  if (x <= 0) return 0.0;
  if (x >= 1) return 1.0;
  // x^a (1-x)^b / (a B(a, b)), in logs.
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * incompleteBetaFraction(x, a, b) / a;
  // Symmetry I_x(a, b) = 1 - I_{1-x}(b, a) keeps the fraction convergent.
  return 1.0 - std::exp(log_front) * incompleteBetaFraction(1.0 - x, b, a) / b;
}

double betaQuantile(double p, double a, double b) {
  if (!(p >= 0 && p <= 1)) fail(ErrorCode::InvalidArgument, "beta quantile: p must be in [0, 1]");
  if (p == 0) return 0.0;
  if (p == 1) return 1.0;
  // The CDF is monotone: bisection to the last representable bit.
  double low = 0.0;
  double high = 1.0;
  for (int iteration = 0; iteration < 200 && high - low > std::numeric_limits<double>::epsilon() * 0.5; ++iteration) {
    const double middle = 0.5 * (low + high);
    if (middle <= low || middle >= high) break;
    if (regularizedIncompleteBeta(middle, a, b) < p)
      low = middle;
    else
      high = middle;
  }
  return 0.5 * (low + high);
}

}  // namespace gesso::diffusion
