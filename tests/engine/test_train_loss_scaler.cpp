// The fp16 loss scaler (training::LossScaler), checked on the CPU against torch.cuda.amp.GradScaler's rules: gradients
// are divided by the scale, a step with a non-finite gradient is reported (to be skipped) and halves the scale,
// `growth_interval` finite steps in a row double it, and its state survives a checkpoint (JSON) exactly.
#include "expect_error.h"
#include "gesso/training/optimizer.h"

#include <ATen/ATen.h>
#include <QtTest>

#include <limits>

using namespace gesso;
using training::LossScaler;

namespace {

at::Tensor parameterWithGrad(const std::vector<float>& grad) {
  at::Tensor parameter = at::zeros({int64_t(grad.size())}).requires_grad_(true);
  parameter.mutable_grad() = at::tensor(grad);
  return parameter;
}

}  // namespace

class TrainLossScalerTest : public QObject {
  Q_OBJECT

 private slots:
  void defaultsAreGradScalers() {
    const LossScaler scaler(true);
    QCOMPARE(scaler.scale(), 65536.0);  // GradScaler's init_scale
    const LossScaler disabled;
    QVERIFY(!disabled.enabled());
    QCOMPARE(disabled.scale(), 1.0);
  }

  void unscaleDividesAndFindsNonFinite() {
    const LossScaler scaler(true, 1024.0, 3);
    std::vector<at::Tensor> parameters{parameterWithGrad({1024.f, -2048.f}), parameterWithGrad({512.f})};
    parameters.push_back(at::zeros({2}).requires_grad_(true));  // no gradient: skipped
    QVERIFY(scaler.unscale(parameters));
    const double diff = std::max((parameters[0].grad() - at::tensor({1.f, -2.f})).abs().max().item<double>(),
                                 (parameters[1].grad() - at::tensor({0.5f})).abs().max().item<double>());
    qInfo("unscaled gradients: max diff %g", diff);
    QCOMPARE(diff, 0.0);

    for (const float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
      std::vector<at::Tensor> with_bad{parameterWithGrad({1.f}), parameterWithGrad({2.f, bad})};
      QVERIFY(!scaler.unscale(with_bad));
    }
    // Disabled: nothing is divided, but a non-finite gradient is still reported.
    std::vector<at::Tensor> plain{parameterWithGrad({3.f})};
    QVERIFY(LossScaler().unscale(plain));
    QCOMPARE(plain[0].grad().item<float>(), 3.f);
    std::vector<at::Tensor> plain_bad{parameterWithGrad({std::numeric_limits<float>::infinity()})};
    QVERIFY(!LossScaler().unscale(plain_bad));
  }

  void backoffAndGrowth() {
    LossScaler scaler(true, 1024.0, 3);
    scaler.update(false);
    scaler.update(false);
    QCOMPARE(scaler.scale(), 1024.0);
    scaler.update(true);  // halves and restarts the count
    QCOMPARE(scaler.scale(), 512.0);
    scaler.update(false);
    scaler.update(false);
    QCOMPARE(scaler.scale(), 512.0);
    scaler.update(false);  // third finite step in a row
    QCOMPARE(scaler.scale(), 1024.0);
    LossScaler disabled;
    disabled.update(true);
    QCOMPARE(disabled.scale(), 1.0);
  }

  void stateSurvivesACheckpoint() {
    LossScaler scaler(true, 256.0, 3);
    scaler.update(false);
    scaler.update(false);
    LossScaler restored;
    restored.fromJson(scaler.toJson());
    QVERIFY(restored.enabled());
    QCOMPARE(restored.scale(), 256.0);
    restored.update(false);  // the count of finite steps came along: this one completes the interval
    QCOMPARE(restored.scale(), 512.0);
    GESSO_EXPECT_ERROR(restored.fromJson("{\"enabled\": false}"), ErrorCode::InvalidFormat, "loss scaler state");
    QVERIFY(restored.enabled());
    GESSO_EXPECT_ERROR(restored.fromJson("not json"), ErrorCode::InvalidFormat, "loss scaler state");
    QCOMPARE(restored.scale(), 512.0);  // a damaged state left the scaler as it was
  }
};

QTEST_GUILESS_MAIN(TrainLossScalerTest)
#include "test_train_loss_scaler.moc"
