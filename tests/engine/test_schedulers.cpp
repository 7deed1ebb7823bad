// The SD discretization and every named scheduler: golden sigmas/timesteps from k-diffusion and sgm, and the
// defining properties of the ComfyUI schedulers that have no golden.
#include "gesso/diffusion/schedulers.h"

#include "gesso/diffusion/discretization.h"
#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QtTest>

#include <cmath>

using namespace gesso::diffusion;
using gesso::ErrorCode;
using gesso::GessoError;

namespace {

at::Tensor f64(const std::vector<double>& values) { return at::tensor(values, at::TensorOptions().dtype(at::kDouble)); }

const DiscreteSchedule& sd() {
  static const DiscreteSchedule schedule = DiscreteSchedule::stableDiffusion();
  return schedule;
}

}  // namespace

class SchedulersTest : public QObject {
  Q_OBJECT

 private slots:
  void sdScheduleMatchesGoldens() {
    GESSO_REQUIRE_SHARED();
    const auto file = gesso::test::openGolden("samplers.safetensors");
    const std::vector<double> betas = scaledLinearBetas();
    GESSO_COMPARE_TENSORS("sd_betas_f64", f64(betas), gesso::test::goldenTensor(*file, "schedule/sd_betas_f64"), 1e-16, 1e-14);
    GESSO_COMPARE_TENSORS("sd_alphas_cumprod_f64", f64(alphasCumprod(betas)),
                          gesso::test::goldenTensor(*file, "schedule/sd_alphas_cumprod_f64"), 1e-16, 1e-13);
    GESSO_COMPARE_TENSORS("sd_alphas_cumprod_f32", sd().alphasCumprod(),
                          gesso::test::goldenTensor(*file, "schedule/sd_alphas_cumprod_f32"), 0, 0);
    GESSO_COMPARE_TENSORS("sd_sigmas_1000_f32", sd().sigmas(), gesso::test::goldenTensor(*file, "schedule/sd_sigmas_1000_f32"), 0,
                          1e-6);
    GESSO_COMPARE_TENSORS("sd_log_sigmas_1000_f32", sd().logSigmas(),
                          gesso::test::goldenTensor(*file, "schedule/sd_log_sigmas_1000_f32"), 1e-6, 1e-6);
  }

  void goldenSchedules_data() {
    QTest::addColumn<QString>("name");
    for (const char* name : {"karras10", "normal10", "sgm_legacy10"}) QTest::newRow(name) << QString(name);
  }

  void goldenSchedules() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, name);
    const auto file = gesso::test::openGolden("samplers.safetensors");
    const std::string prefix = "schedule/" + name.toStdString();
    at::Tensor sigmas;
    if (name == "karras10") sigmas = karrasSigmas(10, 0.03, 14.6, 7.0);
    if (name == "normal10") sigmas = normalSigmas(sd(), 10);
    if (name == "sgm_legacy10") sigmas = legacyDdpmDiscretization(10);
    const at::Tensor expected = gesso::test::goldenTensor(*file, prefix + "/sigmas");
    GESSO_COMPARE_TENSORS(name + " sigmas", sigmas, expected, 1e-7, 1e-6);
    // sigma -> t on the schedule's nonzero sigmas, interpolated and quantized.
    const at::Tensor nonzero = expected.slice(0, 0, 10);
    GESSO_COMPARE_TENSORS(name + " t_from_sigma", sd().sigmaToTimestep(nonzero),
                          gesso::test::goldenTensor(*file, prefix + "/t_from_sigma"), 2e-4, 1e-6);
    const at::Tensor quantized = sd().sigmaToNearestIndex(nonzero);
    QCOMPARE(quantized.scalar_type(), at::kLong);
    QVERIFY(at::equal(quantized, gesso::test::goldenTensor(*file, prefix + "/t_from_sigma_quantized")));
  }

  void timestepAndSigmaRoundTrip() {
    const at::Tensor t = at::tensor({0.0f, 0.25f, 17.5f, 261.5f, 500.0f, 998.9f, 999.0f});
    const at::Tensor back = sd().sigmaToTimestep(sd().timestepToSigma(t));
    GESSO_COMPARE_TENSORS("t -> sigma -> t", back, t, 2e-3, 0);
    // Integer timesteps give the table's sigmas; out-of-range values clamp.
    GESSO_COMPARE_TENSORS("sigma(integer t)", sd().timestepToSigma(at::arange(1000, at::kFloat)), sd().sigmas(), 0, 1e-6);
    QCOMPARE(sd().sigmaToTimestep(at::tensor({1000.0f})).item<float>(), 999.0f);
    QCOMPARE(sd().sigmaToTimestep(at::tensor({0.001f})).item<float>(), 0.0f);
    QCOMPARE(sd().sigmaMin(), sd().sigmas()[0].item<double>());
    QVERIFY(std::fabs(sd().sigmaMax() - 14.6146) < 1e-4);
    QVERIFY(std::fabs(sd().sigmaMin() - 0.0292) < 1e-4);
  }

  void everySchedulerGivesDescendingSigmasEndingInZero_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("steps");
    for (const std::string& name : schedulerNames()) {
      for (int steps : {1, 2, 3, 5, 10, 20, 25, 50}) {
        QTest::newRow(QString("%1/%2").arg(QString::fromStdString(name)).arg(steps).toLatin1())
            << QString::fromStdString(name) << steps;
      }
    }
  }

  void everySchedulerGivesDescendingSigmasEndingInZero() {
    QFETCH(QString, name);
    QFETCH(int, steps);
    SchedulerContext context;
    context.schedule = &sd();
    const at::Tensor sigmas = makeSigmas(name.toStdString(), context, steps);
    QCOMPARE(sigmas.dim(), int64_t(1));
    QCOMPARE(sigmas.scalar_type(), at::kFloat);
    QCOMPARE(sigmas.size(0), int64_t(steps + 1));
    QCOMPARE(sigmas[steps].item<float>(), 0.0f);
    QVERIFY2((sigmas.slice(0, 0, steps) > 0).all().item<bool>(), "all but the last sigma are positive");
    QVERIFY2((sigmas.slice(0, 1) < sigmas.slice(0, 0, steps)).all().item<bool>(), "sigmas strictly decrease");
    QVERIFY(sigmas[0].item<double>() <= sd().sigmaMax() * (1 + 1e-6));
    if (name != "ddim_uniform") QVERIFY2(std::fabs(sigmas[0].item<double>() - sd().sigmaMax()) < 1e-4, "starts at sigma_max");
  }

  void karrasEndpointsAndShape() {
    const at::Tensor sigmas = karrasSigmas(20, 0.0292, 14.6146, 7.0).to(at::kDouble);
    QVERIFY(std::fabs(sigmas[0].item<double>() - 14.6146) < 1e-5);
    QVERIFY(std::fabs(sigmas[19].item<double>() - 0.0292) < 1e-6);
    // sigma^(1/rho) is linear in the step index.
    const at::Tensor root = sigmas.slice(0, 0, 20).pow(1.0 / 7.0);
    const at::Tensor steps = root.slice(0, 1) - root.slice(0, 0, 19);
    QVERIFY2((steps - steps[0]).abs().max().item<double>() < 1e-6, "karras: sigma^(1/rho) is not uniform");
    // exponential: log sigma uniform; kl_optimal: atan(sigma) uniform.
    const at::Tensor expo = exponentialSigmas(20, 0.0292, 14.6146).to(at::kDouble).slice(0, 0, 20).log();
    QVERIFY((expo.slice(0, 1) - expo.slice(0, 0, 19) - (expo[1] - expo[0])).abs().max().item<double>() < 1e-5);
    const at::Tensor kl = klOptimalSigmas(20, 0.0292, 14.6146).to(at::kDouble).slice(0, 0, 20).atan();
    QVERIFY((kl.slice(0, 1) - kl.slice(0, 0, 19) - (kl[1] - kl[0])).abs().max().item<double>() < 1e-5);
    QVERIFY(std::fabs(kl[19].item<double>() - std::atan(0.0292)) < 1e-6);
  }

  // simple picks every (1000/n)-th training sigma from the top; sgm_uniform(n) is normal(n+1) without its last
  // nonzero sigma; simple(10) picks the timesteps of sgm's legacy discretization.
  void tableSchedulersRelations() {
    for (int n : {4, 10, 30}) {
      const at::Tensor simple = simpleSigmas(sd(), n);
      for (int i = 0; i < n; ++i) {
        const int64_t index = 999 - static_cast<int64_t>(i * (1000.0 / n));
        QCOMPARE(simple[i].item<float>(), sd().sigmas()[index].item<float>());
      }
      const at::Tensor sgm = sgmUniformSigmas(sd(), n);
      const at::Tensor normal = normalSigmas(sd(), n + 1);
      QVERIFY(at::equal(sgm.slice(0, 0, n), normal.slice(0, 0, n)));
    }
    GESSO_COMPARE_TENSORS("simple(10) vs sgm legacy(10)", simpleSigmas(sd(), 10), legacyDdpmDiscretization(10), 0, 1e-6);
    // ddim_uniform: 1 + k * (1000 // n), reversed.
    const at::Tensor ddim = ddimUniformSigmas(sd(), 10);
    for (int k = 0; k < 10; ++k) QCOMPARE(ddim[9 - k].item<float>(), sd().sigmas()[1 + 100 * k].item<float>());
    // ComfyUI's quirk, kept for parity: 1000 // 7 = 142 gives 8 timesteps (1, 143, ..., 995).
    QCOMPARE(ddimUniformSigmas(sd(), 7).size(0), int64_t(9));
  }

  void alignYourStepsPublishedAndInterpolated() {
    for (AysModel model : {AysModel::SD1, AysModel::SDXL}) {
      const std::vector<double>& published = alignYourStepsPublished(model);
      QCOMPARE(published.size(), size_t(11));
      const at::Tensor native = alignYourStepsSigmas(model, 10);
      std::vector<double> expected = published;
      expected.back() = 0;
      GESSO_COMPARE_TENSORS("ays native 10 steps", native, f64(expected).to(at::kFloat), 0, 0);
      // Interpolated to 20 steps: every other value on a published point, geometric means in between; like
      // ComfyUI, the smallest published sigma becomes the final 0.
      const at::Tensor twenty = alignYourStepsSigmas(model, 20).to(at::kDouble);
      QCOMPARE(twenty.size(0), int64_t(21));
      for (int i = 0; i < 10; ++i) {
        QVERIFY(std::fabs(twenty[2 * i].item<double>() - published[i]) < 1e-5 * published[i]);
        const double midpoint = std::sqrt(published[i] * published[i + 1]);
        QVERIFY(std::fabs(twenty[2 * i + 1].item<double>() - midpoint) < 1e-5 * midpoint);
      }
    }
    QCOMPARE(alignYourStepsPublished(AysModel::SD1)[1], 6.4745760956);
    QCOMPARE(alignYourStepsPublished(AysModel::SDXL)[1], 6.3184485287);
  }

  // Closed forms: Beta(1,1) is uniform, Beta(2,1) has CDF x^2, Beta(a,a) is symmetric about 1/2.
  void betaQuantileClosedForms() {
    for (double p : {0.0, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0}) {
      QVERIFY(std::fabs(betaQuantile(p, 1, 1) - p) < 1e-12);
      QVERIFY(std::fabs(betaQuantile(p, 2, 1) - std::sqrt(p)) < 1e-12);
      QVERIFY(std::fabs(betaQuantile(p, 0.6, 0.6) + betaQuantile(1 - p, 0.6, 0.6) - 1) < 1e-12);
      QVERIFY(std::fabs(regularizedIncompleteBeta(betaQuantile(p, 0.6, 0.6), 0.6, 0.6) - p) < 1e-12);
    }
    QVERIFY(std::fabs(betaQuantile(0.5, 0.6, 0.6) - 0.5) < 1e-12);
    // Beta(0.5, 0.5) is the arcsine law: F(x) = 2/pi asin(sqrt x).
    for (double x : {0.05, 0.2, 0.6, 0.95})
      QVERIFY(std::fabs(regularizedIncompleteBeta(x, 0.5, 0.5) - 2 / M_PI * std::asin(std::sqrt(x))) < 1e-12);
    // The scheduler: timesteps rint(999 * ppf(1 - i/n)); more steps near both ends than in the middle.
    const at::Tensor sigmas = betaSigmas(sd(), 10);
    for (int i = 0; i < 10; ++i) {
      const int64_t t = static_cast<int64_t>(std::nearbyint(999 * betaQuantile(1 - i / 10.0, 0.6, 0.6)));
      QCOMPARE(sigmas[i].item<float>(), sd().sigmas()[t].item<float>());
    }
  }

  void zeroTerminalSnrRescale() {
    const std::vector<double> ac = alphasCumprod(scaledLinearBetas());
    const std::vector<double> rescaled = rescaleZeroTerminalSnr(ac);
    QCOMPARE(rescaled.front(), ac.front());
    QCOMPARE(rescaled.back(), 4.8973451890853435e-08);
    const double first = std::sqrt(ac.front()), last = std::sqrt(ac.back());
    for (size_t i : {size_t(1), size_t(400), size_t(998)}) {
      const double expected = (std::sqrt(ac[i]) - last) * first / (first - last);
      QVERIFY(std::fabs(std::sqrt(rescaled[i]) - expected) < 1e-14);
      QVERIFY(rescaled[i] < rescaled[i - 1]);
    }
    const DiscreteSchedule ztsnr(rescaled);
    QVERIFY(std::fabs(ztsnr.sigmaMax() - 4518.9) < 1.0);
  }

  void rejectsBadArguments() {
    SchedulerContext context;
    context.schedule = &sd();
    const auto expectError = [](const std::function<void()>& body, const QString& phrase) {
      try {
        body();
        QFAIL("accepted bad input");
      } catch (const GessoError& error) {
        QCOMPARE(error.error().code, ErrorCode::InvalidArgument);
        QVERIFY2(QString::fromStdString(error.error().detail).contains(phrase), error.error().detail.c_str());
      }
    };
    expectError([&] { makeSigmas("karras_2", context, 10); }, "known: normal, karras, exponential");
    expectError([&] { makeSigmas("karras", context, 0); }, "steps must be >= 1");
    expectError([&] { makeSigmas("normal", SchedulerContext{}, 10); }, "discrete schedule");
    expectError([&] { karrasSigmas(5, 2.0, 1.0); }, "sigma_min < sigma_max");
    expectError([&] { legacyDdpmDiscretization(1001); }, "n must be in [1, 1000]");
  }

  void registryNames() {
    const std::vector<std::string> expected{"normal",       "karras", "exponential", "sgm_uniform",     "simple",
                                            "ddim_uniform", "beta",   "kl_optimal",  "align_your_steps"};
    QVERIFY(schedulerNames() == expected);
  }
};

QTEST_GUILESS_MAIN(SchedulersTest)
#include "test_schedulers.moc"
