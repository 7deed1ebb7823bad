// Convergence orders: with Gaussian data N(mu, s^2) the probability-flow ODE has the exact solution
// x(sigma) = mu + (x(sigma0) - mu) * sqrt((s^2 + sigma^2) / (s^2 + sigma0^2)); each deterministic sampler's error
// must fall with its order as the steps double. Multistep methods start with lower-order steps (one first-order
// step for dpmpp_3m_sde, orders 1..3 for lms); a first-order step's local error O(h^2) limits the global order to 2,
// so their expected (asymptotic) order is 2, and the pay-off of their higher-order formulas is checked separately.
#include "gesso/diffusion/sampler.h"

#include "golden.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QtTest>

#include <cmath>

using namespace gesso::diffusion;

namespace {

constexpr double kMu = 0.3;
constexpr double kS = 0.5;
constexpr double kSigmaMax = 10.0;
constexpr double kSigmaEnd = 0.1;  // the exact solution at a positive end; a final step to 0 would hide the order

// Karras spacing (rho 7) in float64 without the final 0, so the grid is smooth to rounding.
at::Tensor grid(int steps) {
  std::vector<double> sigmas(steps + 1);
  const double a = std::pow(kSigmaMax, 1 / 7.0), b = std::pow(kSigmaEnd, 1 / 7.0);
  for (int i = 0; i <= steps; ++i) sigmas[i] = std::pow(a + (b - a) * i / steps, 7.0);
  return at::tensor(sigmas, at::TensorOptions().dtype(at::kDouble));
}

double error(const std::string& name, double eta, int steps, const at::Tensor& x0) {
  SamplerContext context;
  context.denoiser = [](const at::Tensor& x, const at::Tensor& sigma) {
    const at::Tensor sig = sigma.reshape({-1, 1, 1, 1});  // [B, 1, 1, 1]
    return (kS * kS * x + sig * sig * kMu) / (kS * kS + sig * sig);
  };
  if (eta >= 0) context.options.eta = eta;
  const at::Tensor out = sample(name, context, x0, grid(steps));
  const at::Tensor exact = kMu + (x0 - kMu) * std::sqrt((kS * kS + kSigmaEnd * kSigmaEnd) / (kS * kS + kSigmaMax * kSigmaMax));
  return (out - exact).abs().max().item<double>();
}

}  // namespace

class SamplerConvergenceTest : public QObject {
  Q_OBJECT

 private slots:
  void errorFallsWithOrder_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<double>("eta");  // < 0: the sampler's default
    QTest::addColumn<double>("order");
    QTest::newRow("euler") << "euler" << -1.0 << 1.0;
    QTest::newRow("ddim") << "ddim" << 0.0 << 1.0;
    QTest::newRow("euler_ancestral eta 0") << "euler_ancestral" << 0.0 << 1.0;
    QTest::newRow("heun") << "heun" << -1.0 << 2.0;
    QTest::newRow("dpm_2") << "dpm_2" << -1.0 << 2.0;
    QTest::newRow("dpm_2_ancestral eta 0") << "dpm_2_ancestral" << 0.0 << 2.0;
    QTest::newRow("dpmpp_2s_ancestral eta 0") << "dpmpp_2s_ancestral" << 0.0 << 2.0;
    QTest::newRow("dpmpp_sde eta 0") << "dpmpp_sde" << 0.0 << 2.0;
    QTest::newRow("dpmpp_2m") << "dpmpp_2m" << -1.0 << 2.0;
    QTest::newRow("dpmpp_2m_sde eta 0") << "dpmpp_2m_sde" << 0.0 << 2.0;
    QTest::newRow("dpmpp_2m_sde_heun eta 0") << "dpmpp_2m_sde_heun" << 0.0 << 2.0;
    QTest::newRow("dpmpp_3m_sde eta 0") << "dpmpp_3m_sde" << 0.0 << 2.0;  // startup-limited, see above
    QTest::newRow("lms") << "lms" << -1.0 << 2.0;                         // startup-limited, see above
    QTest::newRow("ipndm") << "ipndm" << -1.0 << 2.0;
    QTest::newRow("uni_pc") << "uni_pc" << -1.0 << 2.0;
    QTest::newRow("uni_pc_bh2") << "uni_pc_bh2" << -1.0 << 2.0;
  }

  void errorFallsWithOrder() {
    QFETCH(QString, name);
    QFETCH(double, eta);
    QFETCH(double, order);
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(42);
    const at::Tensor x0 = kMu + at::randn({2, 4, 4, 4}, generator, at::TensorOptions().dtype(at::kDouble)) * kSigmaMax;
    std::vector<double> errors;
    QString line;
    for (int steps : {10, 20, 40, 80}) {
      errors.push_back(error(name.toStdString(), eta, steps, x0));
      line += QString(" %1:%2").arg(steps).arg(errors.back(), 0, 'e', 2);
    }
    const double measured = std::log2(errors[errors.size() - 2] / errors.back());
    qInfo().noquote()
        << QString("%1: errors%2, measured order %3 (expected %4)").arg(name).arg(line).arg(measured, 0, 'f', 2).arg(order);
    QVERIFY2(errors.back() < errors.front(), "the error does not fall with more steps");
    QVERIFY2(measured >= order - 0.3, qPrintable(QString("measured order %1 below expected %2").arg(measured).arg(order)));
  }

  // The third/fourth-order formulas beat the second-order ones at equal steps.
  void higherOrderMethodsBeatSecondOrder() {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(42);
    const at::Tensor x0 = kMu + at::randn({2, 4, 4, 4}, generator, at::TensorOptions().dtype(at::kDouble)) * kSigmaMax;
    for (int steps : {20, 40, 80}) {
      const double second = error("dpmpp_2m", -1, steps, x0);
      const double third = error("dpmpp_3m_sde", 0, steps, x0);
      const double lms = error("lms", -1, steps, x0);
      qInfo().noquote() << QString("%1 steps: dpmpp_2m %2, dpmpp_3m_sde(eta 0) %3, lms %4")
                               .arg(steps)
                               .arg(second, 0, 'e', 2)
                               .arg(third, 0, 'e', 2)
                               .arg(lms, 0, 'e', 2);
      QVERIFY(third < second);
      QVERIFY(lms < second);
    }
  }
};

QTEST_GUILESS_MAIN(SamplerConvergenceTest)
#include "test_sampler_convergence.moc"
