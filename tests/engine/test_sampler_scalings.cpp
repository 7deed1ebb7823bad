// Denoiser scalings: the formulas of sgm's Eps/V/EDM scalings, and that each recovers x0 from its exact target.
#include "gesso/diffusion/scalings.h"

#include "golden.h"

#include <ATen/ATen.h>
#include <QtTest>

#include <cmath>

using namespace gesso::diffusion;

class ScalingsTest : public QObject {
  Q_OBJECT

 private slots:
  void formulas() {
    const at::Tensor sigma = at::tensor({0.03, 0.9223, 14.6}, at::TensorOptions().dtype(at::kDouble));
    for (int i = 0; i < 3; ++i) {
      const double s = sigma[i].item<double>();
      const Scalings eps = computeScalings(Prediction::Epsilon, sigma);
      QCOMPARE(eps.c_skip[i].item<double>(), 1.0);
      QCOMPARE(eps.c_out[i].item<double>(), -s);
      QVERIFY(std::fabs(eps.c_in[i].item<double>() - 1 / std::sqrt(s * s + 1)) < 1e-15);
      QCOMPARE(eps.c_noise[i].item<double>(), s);
      const Scalings v = computeScalings(Prediction::V, sigma);
      QVERIFY(std::fabs(v.c_skip[i].item<double>() - 1 / (s * s + 1)) < 1e-15);
      QVERIFY(std::fabs(v.c_out[i].item<double>() + s / std::sqrt(s * s + 1)) < 1e-15);
      QVERIFY(std::fabs(v.c_in[i].item<double>() - 1 / std::sqrt(s * s + 1)) < 1e-15);
      const Scalings edm = computeScalings(Prediction::Edm, sigma, 0.5);
      QVERIFY(std::fabs(edm.c_skip[i].item<double>() - 0.25 / (s * s + 0.25)) < 1e-15);
      QVERIFY(std::fabs(edm.c_out[i].item<double>() - s * 0.5 / std::sqrt(s * s + 0.25)) < 1e-15);
      QVERIFY(std::fabs(edm.c_in[i].item<double>() - 1 / std::sqrt(s * s + 0.25)) < 1e-15);
      QVERIFY(std::fabs(edm.c_noise[i].item<double>() - 0.25 * std::log(s)) < 1e-15);
    }
  }

  // Given its exact training target, each parameterisation's denoiser returns x0.
  void recoversCleanDataFromExactTargets() {
    const auto options = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor x0 = at::randn({3, 4, 2, 2}, options);
    const at::Tensor noise = at::randn({3, 4, 2, 2}, options);
    const at::Tensor sigma = at::tensor({0.03, 0.9223, 14.6}, options);
    const at::Tensor s = sigma.reshape({-1, 1, 1, 1});  // [B, 1, 1, 1]
    const at::Tensor x = x0 + s * noise;
    // eps: the network's input is the VP latent x / sqrt(sigma^2+1); its target is the noise.
    at::Tensor seen_input, seen_noise_level;
    const Denoiser eps = makeDenoiser(Prediction::Epsilon, [&](const at::Tensor& scaled, const at::Tensor& c_noise) {
      seen_input = scaled;
      seen_noise_level = c_noise;
      return noise;
    });
    GESSO_COMPARE_TENSORS("eps -> x0", eps(x, sigma), x0, 1e-12, 0);
    GESSO_COMPARE_TENSORS("eps input is the VP latent", seen_input, x / (s * s + 1).sqrt(), 1e-14, 0);
    GESSO_COMPARE_TENSORS("eps c_noise is sigma", seen_noise_level, sigma, 0, 0);
    // v = alpha * eps - sigma_vp * x0 with alpha = 1/sqrt(sigma^2+1), sigma_vp = sigma/sqrt(sigma^2+1).
    const at::Tensor v_target = (noise - s * x0) / (s * s + 1).sqrt();
    const Denoiser v = makeDenoiser(Prediction::V, [&](const at::Tensor&, const at::Tensor&) { return v_target; });
    GESSO_COMPARE_TENSORS("v -> x0", v(x, sigma), x0, 1e-12, 0);
    // EDM: F = (x0 - c_skip x) / c_out.
    const Scalings c = computeScalings(Prediction::Edm, sigma);
    const at::Tensor f_target = (x0 - c.c_skip.reshape({-1, 1, 1, 1}) * x) / c.c_out.reshape({-1, 1, 1, 1});
    const Denoiser edm = makeDenoiser(Prediction::Edm, [&](const at::Tensor&, const at::Tensor&) { return f_target; });
    GESSO_COMPARE_TENSORS("edm -> x0", edm(x, sigma), x0, 1e-12, 0);
    // EDM keeps the network's input at unit variance for data of std sigma_data: c_in^2 (sigma^2 + sigma_data^2) = 1.
    GESSO_COMPARE_TENSORS("edm c_in", c.c_in * c.c_in * (sigma * sigma + 0.25), at::ones_like(sigma), 1e-14, 0);
  }
};

QTEST_GUILESS_MAIN(ScalingsTest)
#include "test_sampler_scalings.moc"
