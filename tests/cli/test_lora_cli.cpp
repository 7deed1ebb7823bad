// gesso-cli generate with LoRAs, as a separate process on a tiny random checkpoint: --lora FILE:0 gives the base image,
// --lora FILE:1 another one, the prompt tag <lora:NAME:1> with --lora-dir the same as --lora FILE:1, a missing file a
// named error.
#include "gesso/image/image_io.h"
#include "gesso/image/png_metadata.h"
#include "gesso/io/checkpoint.h"
#include "gesso/lora/lora_network.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/model_loader.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
  int exit_code = -1;
  QString output;
  QString errors;
};

Run runCli(const QStringList& arguments) {
  QProcess process;
  process.start(gesso::test::cliPath(), arguments);
  process.waitForFinished(120000);
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromLocal8Bit(process.readAllStandardOutput()), QString::fromLocal8Bit(process.readAllStandardError())};
}

}  // namespace

class LoraCliTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_;
  QString tokenizer_;
  QString lora_;

  // Generates one image and returns its pixels (empty on failure, after a test failure message).
  std::vector<uint8_t> generate(const QString& name, QStringList extra) {
    const QString out = dir_.filePath(name);
    QStringList arguments{"generate", "--model", model_, "--tokenizer", tokenizer_, "--prompt", "a fox", "--steps", "2",
                          "--width", "64", "--height", "64", "--seed", "3", "--output", out};
    for (int i = 0; i < extra.size(); ++i) {
      if (extra[i] == "--prompt") {  // replaces the default prompt
        arguments[6] = extra[i + 1];
        ++i;
        continue;
      }
      arguments << extra[i];
    }
    const Run run = runCli(arguments);
    if (run.exit_code != 0) {
      QTest::qFail(qPrintable(run.output + run.errors), __FILE__, __LINE__);
      return {};
    }
    return gesso::image::readImage(run.output.trimmed().toStdString()).data;
  }

 private slots:
  void initTestCase() {
    tokenizer_ = QString::fromStdString(gesso::test::sharedTokenizerPath());
    if (tokenizer_.isEmpty()) return;
    const gesso::ModelConfig config = gesso::test::tinySd1Config();
    model_ = dir_.filePath("tiny.safetensors");
    gesso::test::writeTinyCheckpoint(model_.toStdString(), config);
    const auto checkpoint = gesso::io::Checkpoint::open(model_.toStdString());
    gesso::models::UNet unet = gesso::loadUNet(checkpoint, config);
    std::vector<gesso::models::TextEncoder> text{gesso::loadTextEncoder(checkpoint, config, 0)};
    gesso::lora::LoraOptions options;
    options.rank = 4;
    options.train_text_encoder = true;
    auto network = gesso::lora::LoraNetwork::attach(unet, text, config, options, 1);
    {
      torch::NoGradGuard no_grad;
      at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(2);
      for (at::Tensor& p : network->parameters()) p.copy_(at::randn(p.sizes(), generator) * 0.3);
    }
    QVERIFY(QDir(dir_.path()).mkpath("loras"));
    lora_ = dir_.filePath("loras/ink.safetensors");
    network->save(lora_.toStdString(), {}, at::kHalf);
  }

  void loraOptions() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const auto base = generate("base", {});
    const auto zero = generate("zero", {"--lora", lora_ + ":0"});
    const auto one = generate("one", {"--lora", lora_ + ":1"});
    const auto tagged = generate("tagged", {"--lora-dir", dir_.filePath("loras"), "--prompt", "a fox <lora:ink:1>"});
    QVERIFY(!base.empty());
    QVERIFY(base == zero);
    QVERIFY(base != one);
    QVERIFY(one == tagged);
    // The written PNG names the LoRA in A1111's "Lora hashes" (as the engine's writeResult does).
    const QStringList files = QDir(dir_.filePath("one")).entryList({"*.png"}, QDir::Files);
    QCOMPARE(files.size(), 1);
    const auto metadata = gesso::image::readPngGenerationMetadata(QDir(dir_.filePath("one")).filePath(files[0]).toStdString());
    QVERIFY(metadata.parameters_text.has_value());
    QVERIFY2(metadata.parameters_text->find("Lora hashes: \"") != std::string::npos, metadata.parameters_text->c_str());
  }

  void missingLora() {
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const Run run = runCli({"generate", "--model", model_, "--tokenizer", tokenizer_, "--prompt", "a fox", "--steps", "1",
                            "--width", "64", "--height", "64", "--lora", dir_.filePath("nothing.safetensors") + ":0.5",
                            "--output", dir_.filePath("never")});
    QVERIFY(run.exit_code != 0);
    QVERIFY2(run.errors.contains("nothing.safetensors"), qPrintable(run.errors));
  }
};

QTEST_GUILESS_MAIN(LoraCliTest)
#include "test_lora_cli.moc"
