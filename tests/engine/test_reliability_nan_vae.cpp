// NaN output of the VAE is refused with its cause, never turned into a black image: a tiny SD1 checkpoint whose
// VAE (or UNet) weights are poisoned with NaN in the file, the guard's float32 retry of a half-precision VAE, and
// the CLI writing no PNG for such a model.
#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/model_loader.h"
#include "gesso/pipeline/pipeline.h"
#include "gesso/pipeline/vae_decode_guard.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace gesso;

namespace {

// Copies the checkpoint at `from` to `to` with every value of tensor `name` set to NaN.
void writePoisoned(const std::string& from, const std::string& to, const std::string& name) {
  const auto file = io::SafetensorsFile::open(from);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  bool found = false;
  for (const io::TensorInfo& info : file->tensors()) {
    at::Tensor tensor = file->tensor(info.name).clone();
    if (info.name == name) {
      tensor.fill_(std::numeric_limits<double>::quiet_NaN());
      found = true;
    }
    tensors.emplace_back(info.name, tensor);
  }
  QVERIFY2(found, name.c_str());
  io::writeSafetensors(to, tensors);
}

struct Failure {
  ErrorCode code = ErrorCode::Internal;
  QString detail;
  bool thrown = false;
};

template <class F>
Failure failureOf(F&& body) {
  try {
    body();
  } catch (const GessoError& error) {
    return {error.error().code, QString::fromStdString(error.what()), true};
  }
  return {};
}

}  // namespace

class ReliabilityNanVaeTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string tokenizer_;
  std::string healthy_;

  pipeline::GenerateRequest request(const std::string& model) const {
    pipeline::GenerateRequest r;
    r.model = model;
    r.tokenizer = tokenizer_;
    r.prompt = "a red fox";
    r.steps = 2;
    r.width = 64;
    r.height = 64;
    r.seed = 3;
    return r;
  }

  std::string poisoned(const std::string& tensor) {
    const std::string path = dir_.filePath(QString::fromStdString("poisoned_" + std::to_string(std::hash<std::string>{}(tensor)) +
                                                                  ".safetensors")).toStdString();
    writePoisoned(healthy_, path, tensor);
    return path;
  }

 private slots:
  void initTestCase() {
    tokenizer_ = test::sharedTokenizerPath();
    healthy_ = dir_.filePath("healthy.safetensors").toStdString();
    test::writeTinyCheckpoint(healthy_, test::tinySd1Config());
  }

  void poisonedVaeIsReportedNotSaved() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const std::string tensor = gesso::vaePrefix() + "decoder.conv_out.weight";
    const pipeline::GenerateRequest r = request(poisoned(tensor));
    auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(r));
    const Failure failure = failureOf([&] { pipeline::generate(*model, r); });
    qInfo("%s", qPrintable(failure.detail));
    QVERIFY(failure.thrown);
    QCOMPARE(failure.code, ErrorCode::InvalidFormat);
    QVERIFY2(failure.detail.contains("the VAE decoded NaN or infinite values for batch 1"), qPrintable(failure.detail));
    QVERIFY2(failure.detail.contains("VAE weight 'decoder.conv_out.weight' holds NaN"), qPrintable(failure.detail));
    QVERIFY2(failure.detail.contains("100% of the pixels"), qPrintable(failure.detail));
  }

  void poisonedUNetIsNamed() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const pipeline::GenerateRequest r = request(poisoned(gesso::unetPrefix() + "out.2.bias"));
    auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(r));
    const Failure failure = failureOf([&] { pipeline::generate(*model, r); });
    qInfo("%s", qPrintable(failure.detail));
    QVERIFY(failure.thrown);
    QCOMPARE(failure.code, ErrorCode::InvalidFormat);
    QVERIFY2(failure.detail.contains("latents were already NaN or inf before the VAE"), qPrintable(failure.detail));
    QVERIFY2(failure.detail.contains("UNet weight 'out.2.bias'"), qPrintable(failure.detail));
  }

  void healthyDecodeIsUnchanged() {
    models::AutoencoderKL vae(test::tinyVaeConfig(), at::TensorOptions().dtype(at::kFloat));
    nn::fillRandomWeights(*vae, 11);
    c10::InferenceMode inference;
    const at::Tensor latents = at::randn({2, 4, 8, 8});
    const at::Tensor checked = pipeline::decodeLatentsChecked(vae, latents, "batch 1");
    const at::Tensor plain = vae->decode(latents);
    const double diff = (checked - plain).abs().max().item<double>();
    qInfo("guarded vs plain decode: max diff %g", diff);
    QCOMPARE(diff, 0.0);
  }

  void nanLatentsOnAHealthyVae() {
    models::AutoencoderKL vae(test::tinyVaeConfig(), at::TensorOptions().dtype(at::kFloat));
    nn::fillRandomWeights(*vae, 11);
    c10::InferenceMode inference;
    at::Tensor latents = at::randn({1, 4, 8, 8});
    latents[0][1][2][3] = std::numeric_limits<float>::infinity();
    const Failure failure = failureOf([&] { pipeline::decodeLatentsChecked(vae, latents, "batch 4"); });
    qInfo("%s", qPrintable(failure.detail));
    QVERIFY(failure.thrown);
    QCOMPARE(failure.code, ErrorCode::Internal);
    QVERIFY2(failure.detail.contains("for batch 4") && failure.detail.contains("already NaN or inf before the VAE") &&
                 failure.detail.contains("--precision fp32"),
             qPrintable(failure.detail));
  }

  // A bf16 VAE with a NaN weight: decoded again in float32 (still NaN), restored to bf16, and the weight named.
  void halfVaeIsRetriedInFloat32ThenNamed() {
    models::AutoencoderKL vae(test::tinyVaeConfig(), at::TensorOptions().dtype(at::kBFloat16));
    nn::fillRandomWeights(*vae, 11);
    {
      at::NoGradGuard no_grad;
      vae->named_parameters()["decoder.mid.block_1.conv1.weight"].fill_(std::numeric_limits<double>::quiet_NaN());
    }
    c10::InferenceMode inference;
    const Failure failure = failureOf([&] { pipeline::decodeLatentsChecked(vae, at::randn({1, 4, 8, 8}), "batch 1"); });
    qInfo("%s", qPrintable(failure.detail));
    QVERIFY(failure.thrown);
    QVERIFY2(failure.detail.contains("in BFloat16 and again in float32"), qPrintable(failure.detail));
    QVERIFY2(failure.detail.contains("'decoder.mid.block_1.conv1.weight'"), qPrintable(failure.detail));
    for (const auto& parameter : vae->parameters()) QCOMPARE(parameter.scalar_type(), at::kBFloat16);
  }

  // On a GPU: an fp16 VAE whose output overflows 65504 decodes finite in float32, equal to the float32 VAE's output.
  void fp16OverflowIsRetriedInFloat32() {
    if (!at::hasCUDA()) QSKIP("no CUDA device: the fp16 VAE runs only on a GPU");
    models::AutoencoderKL vae(test::tinyVaeConfig(), at::TensorOptions().dtype(at::kFloat).device(at::kCUDA));
    nn::fillRandomWeights(*vae, 11);
    {
      at::NoGradGuard no_grad;
      vae->named_parameters()["decoder.conv_out.weight"].mul_(1e5);  // outputs far beyond fp16's 65504
    }
    c10::InferenceMode inference;
    const at::Tensor latents = at::randn({1, 4, 8, 8}).cuda();
    const at::Tensor reference = vae->decode(latents);
    QVERIFY(at::isfinite(reference).all().item<bool>());
    QVERIFY(reference.abs().max().item<double>() > 65504.0);
    vae->to(at::kHalf);
    QVERIFY(!at::isfinite(vae->decode(latents.to(at::kHalf))).all().item<bool>());  // fp16 alone overflows
    const at::Tensor checked = pipeline::decodeLatentsChecked(vae, latents, "batch 1");
    QVERIFY(at::isfinite(checked).all().item<bool>());
    const double diff = ((checked - reference).abs() / reference.abs().clamp_min(1.0)).max().item<double>();
    qInfo("fp16 VAE retried in fp32 vs the fp32 VAE: max relative diff %g", diff);
    QVERIFY(diff < 1e-2);  // the weights went through fp16 once
    for (const auto& parameter : vae->parameters()) QCOMPARE(parameter.scalar_type(), at::kHalf);
  }

  // gesso-cli generate on the poisoned model fails with the message and leaves no image behind.
  void cliWritesNoImage() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const std::string model = poisoned(gesso::vaePrefix() + "decoder.conv_out.weight");
    const QString out = dir_.filePath("cli_out");
    QProcess process;
    process.start(test::cliPath(), {"generate", "--model", QString::fromStdString(model), "--tokenizer",
                                    QString::fromStdString(tokenizer_), "--prompt", "x", "--steps", "2", "--width", "64",
                                    "--height", "64", "--output", out});
    QVERIFY(process.waitForFinished(120000));
    const QString errors = QString::fromLocal8Bit(process.readAllStandardError());
    qInfo("exit %d: %s", process.exitCode(), qPrintable(errors.right(300)));
    QVERIFY(process.exitCode() != 0);
    QVERIFY2(errors.contains("holds NaN or inf"), qPrintable(errors));
    QCOMPARE(QDir(out).entryList({"*.png"}, QDir::Files).size(), 0);
  }
};

QTEST_GUILESS_MAIN(ReliabilityNanVaeTest)
#include "test_reliability_nan_vae.moc"
