// training::trainVae (gesso-cli train-vae) on a few in-memory shapes scenes with the bundled model's VAE config: a run
// from a random init writes every VAE parameter; --init starts from a checkpoint's first_stage_model.* (or a standalone
// VAE) and --decoder-only leaves the encoder bit-identical while the decoder moves; bad inits are named errors.
#include "expect_error.h"
#include "gesso/io/safetensors.h"
#include "gesso/pipeline/bundled_model.h"
#include "gesso/training/vae_trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

using namespace gesso;

class VaeTrainerTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string checkpoint_;
  std::string config_;

  training::VaeTrainOptions tinyRun(const std::string& output) const {
    training::VaeTrainOptions options;
    options.shapes_count = 16;
    options.config = config_;
    options.output = output;
    options.steps = 3;
    options.batch_size = 4;
    options.log_every = 1;
    return options;
  }

  static bool startsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

 private slots:
  void initTestCase() {
    checkpoint_ = pipeline::bundledModelPath();
    if (checkpoint_.empty()) QSKIP("the bundled model (its VAE config and weights) is not installed");
    config_ = (std::filesystem::path(checkpoint_).parent_path() / "gesso-shapes.yaml").string();
  }

  void randomInitWritesEveryParameter() {
    const std::string output = dir_.filePath("random.safetensors").toStdString();
    int steps_seen = 0;
    const training::VaeTrainResult result =
        training::trainVae(tinyRun(output), [&](const training::VaeStepMetrics& metrics) {
          ++steps_seen;
          QVERIFY(std::isfinite(metrics.loss));
        });
    QCOMPARE(steps_seen, 3);
    qInfo("random init: %lld parameters, L1 %.4f after 3 steps", static_cast<long long>(result.parameters), result.final_reconstruction_l1);
    const auto written = io::SafetensorsFile::open(output);
    const auto bundled = io::SafetensorsFile::open(checkpoint_);
    size_t vae_tensors = 0;
    for (const auto& info : bundled->tensors()) {
      if (!startsWith(info.name, "first_stage_model.")) continue;
      ++vae_tensors;
      QVERIFY2(written->contains(info.name.substr(18)), info.name.c_str());
    }
    QCOMPARE(written->tensors().size(), vae_tensors);
  }

  void decoderOnlyKeepsTheEncoder() {
    const std::string output = dir_.filePath("decoder.safetensors").toStdString();
    training::VaeTrainOptions options = tinyRun(output);
    options.init = checkpoint_;  // a checkpoint: its first_stage_model.* tensors
    options.decoder_only = true;
    options.lr = 1e-3;
    training::trainVae(options, {});
    const auto written = io::SafetensorsFile::open(output);
    const auto bundled = io::SafetensorsFile::open(checkpoint_);
    double encoder_diff = 0, decoder_diff = 0;
    for (const auto& info : written->tensors()) {
      const at::Tensor before = bundled->tensor("first_stage_model." + info.name).to(at::kFloat);
      const double diff = (written->tensor(info.name) - before).abs().max().item<double>();
      const bool decoder = startsWith(info.name, "decoder.") || startsWith(info.name, "post_quant_conv.");
      double& worst = decoder ? decoder_diff : encoder_diff;
      worst = std::max(worst, diff);
    }
    qInfo("decoder-only: encoder max diff %g, decoder max diff %g", encoder_diff, decoder_diff);
    QCOMPARE(encoder_diff, 0.0);
    QVERIFY(decoder_diff > 0);

    // A standalone VAE file (as train-vae writes) is an init too.
    training::VaeTrainOptions again = tinyRun(dir_.filePath("again.safetensors").toStdString());
    again.init = output;
    again.decoder_only = true;
    training::trainVae(again, {});
    const auto second = io::SafetensorsFile::open(again.output);
    QVERIFY(at::equal(second->tensor("encoder.conv_in.weight"), written->tensor("encoder.conv_in.weight")));
  }

  void badInitsAreNamed() {
    training::VaeTrainOptions no_init = tinyRun(dir_.filePath("x.safetensors").toStdString());
    no_init.decoder_only = true;
    GESSO_EXPECT_ERROR(training::trainVae(no_init, {}), ErrorCode::InvalidArgument, "--init");
    const std::string partial = dir_.filePath("partial.safetensors").toStdString();
    io::writeSafetensors(partial, {{"encoder.conv_in.weight", at::zeros({1})}});
    training::VaeTrainOptions bad = tinyRun(dir_.filePath("y.safetensors").toStdString());
    bad.init = partial;
    GESSO_EXPECT_ERROR(training::trainVae(bad, {}), ErrorCode::ShapeMismatch, "encoder.conv_in.weight");
    io::writeSafetensors(partial, {{"unrelated", at::zeros({1})}});
    GESSO_EXPECT_ERROR(training::trainVae(bad, {}), ErrorCode::MissingKey, "partial.safetensors");
    QVERIFY(!std::filesystem::exists(bad.output));
  }
};

QTEST_GUILESS_MAIN(VaeTrainerTest)
#include "test_vae_trainer.moc"
