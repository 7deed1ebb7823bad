// The discretization as the model wrappers use it: k-diffusion's fractional timestep and sgm's quantized index,
// against the denoise_tiny goldens (the wrappers' recorded t, idx, sigma_quantized and sgm's 1000 sigmas).
#include "gesso/diffusion/discretization.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QtTest>

using namespace gesso::diffusion;

class DiscretizationTest : public QObject {
  Q_OBJECT

 private slots:
  void kdiffusionTimesteps() {
    GESSO_REQUIRE_SHARED();
    const auto file = gesso::test::openGolden("denoise_tiny.safetensors");
    const DiscreteSchedule schedule = DiscreteSchedule::stableDiffusion();
    for (const char* name : {"kdiff_eps", "kdiff_v"}) {
      const at::Tensor sigma = gesso::test::goldenTensor(*file, std::string(name) + "/sigma");
      GESSO_COMPARE_TENSORS(QString(name) + " t", schedule.sigmaToTimestep(sigma),
                            gesso::test::goldenTensor(*file, std::string(name) + "/t"), 2e-4, 1e-6);
    }
  }

  void sgmQuantizedIndex() {
    GESSO_REQUIRE_SHARED();
    const auto file = gesso::test::openGolden("denoise_tiny.safetensors");
    const DiscreteSchedule schedule = DiscreteSchedule::sgmLegacy();
    GESSO_COMPARE_TENSORS("sgm denoiser sigmas", schedule.sigmas(),
                          gesso::test::goldenTensor(*file, "sgm_eps_xl/denoiser_sigmas"), 0, 0);
    const at::Tensor sigma = gesso::test::goldenTensor(*file, "sgm_eps_xl/sigma");
    const at::Tensor index = schedule.sigmaToNearestIndex(sigma, DiscreteSchedule::Distance::Sigma);
    QVERIFY(at::equal(index, gesso::test::goldenTensor(*file, "sgm_eps_xl/idx")));
    GESSO_COMPARE_TENSORS("sgm sigma_quantized", schedule.sigmas().index_select(0, index),
                          gesso::test::goldenTensor(*file, "sgm_eps_xl/sigma_quantized"), 0, 0);
    // The two tables agree up to the float32 cancellation in k-diffusion's 1 - alphas_cumprod at small t.
    GESSO_COMPARE_TENSORS("sgm vs k-diffusion table", schedule.sigmas(), DiscreteSchedule::stableDiffusion().sigmas(), 0, 1e-4);
  }

  // Linear and log distance pick different neighbours between table entries (sgm vs k-diffusion/ComfyUI).
  void distancesDiffer() {
    const DiscreteSchedule schedule = DiscreteSchedule::fromSigmas(at::tensor({1.0f, 2.0f, 4.0f}));
    const at::Tensor query = at::tensor({1.45f, 2.9f});  // log midpoint of 1 and 2 is 1.414; of 2 and 4 is 2.83
    QVERIFY(at::equal(schedule.sigmaToNearestIndex(query), at::tensor({1, 2}, at::kLong)));
    QVERIFY(at::equal(schedule.sigmaToNearestIndex(query, DiscreteSchedule::Distance::Sigma), at::tensor({0, 1}, at::kLong)));
    try {
      DiscreteSchedule::fromSigmas(at::tensor({2.0f, 1.0f}));
      QFAIL("descending sigmas were accepted");
    } catch (const gesso::GessoError& error) {
      QCOMPARE(error.error().code, gesso::ErrorCode::InvalidArgument);
    }
  }
};

QTEST_GUILESS_MAIN(DiscretizationTest)
#include "test_discretization.moc"
