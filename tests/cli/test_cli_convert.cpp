// gesso-cli convert, run as a process: the benign .ckpt fixture to safetensors (equal to its twin), --dtype,
// --prune-ema, a malicious .ckpt refused without running its payload, and LDM -> diffusers folder -> back through
// io::Checkpoint::open equal to the LDM tensors (golden tiny models).
#include "gesso/error.h"
#include "gesso/io/checkpoint.h"
#include "gesso/io/safetensors.h"
#include "gesso/io/state_dict.h"
#include "gesso/models/model_config.h"
#include "gesso/models/model_config_files.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
  int exit_code = -1;
  QString out;
  QString err;
};

Run runCli(const QStringList& arguments, const QString& marker = {}) {
  QProcess process;
  if (!marker.isEmpty()) {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("GESSO_PWNED_MARKER", marker);
    process.setProcessEnvironment(environment);
  }
  process.start(gesso::test::cliPath(), arguments);
  Run run;
  if (!process.waitForFinished(120000)) return run;
  run.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
  run.out = QString::fromUtf8(process.readAllStandardOutput());
  run.err = QString::fromUtf8(process.readAllStandardError());
  return run;
}

QString fixture(const char* name) { return QStringLiteral(GESSO_TEST_FIXTURES_DIR "/ckpt/") + name; }

bool startsWith(const std::string& text, const std::string& prefix) { return text.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

class CliConvertTest : public QObject {
  Q_OBJECT

  QTemporaryDir temp_;

 private slots:
  void initTestCase() {
    if (gesso::test::cliPath().isEmpty() || !QFileInfo(gesso::test::cliPath()).isExecutable()) {
      QSKIP("gesso-cli not found (set GESSO_CLI; CTest does)");
    }
    QVERIFY(temp_.isValid());
  }

  void convertsCkptToSafetensors() {
    const QString out = temp_.filePath("benign.safetensors");
    const Run run = runCli({"convert", fixture("benign.ckpt"), out});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    auto converted = gesso::io::SafetensorsFile::open(out.toStdString());
    auto twin = gesso::io::SafetensorsFile::open(fixture("benign.safetensors").toStdString());
    QCOMPARE(converted->tensors().size(), twin->tensors().size());
    for (const auto& info : twin->tensors()) {
      QVERIFY2(converted->contains(info.name), info.name.c_str());
      QVERIFY2(at::equal(converted->tensor(info.name), twin->tensor(info.name)), info.name.c_str());
    }
  }

  void convertsDtypeAndPrunesEma_data() {
    QTest::addColumn<QString>("dtype");
    QTest::addColumn<bool>("prune");
    QTest::newRow("fp16") << "fp16" << false;
    QTest::newRow("bf16 pruned") << "bf16" << true;
    QTest::newRow("fp32 pruned") << "fp32" << true;
  }
  void convertsDtypeAndPrunesEma() {
    QFETCH(QString, dtype);
    QFETCH(bool, prune);
    const QString out = temp_.filePath("dtype_" + dtype + (prune ? "_pruned" : "") + ".safetensors");
    QStringList arguments{"convert", fixture("benign_protocol4.pt"), out, "--dtype", dtype};
    if (prune) arguments << "--prune-ema";
    const Run run = runCli(arguments);
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const at::ScalarType target = dtype == "fp16" ? at::kHalf : dtype == "bf16" ? at::kBFloat16 : at::kFloat;
    auto converted = gesso::io::SafetensorsFile::open(out.toStdString());
    auto twin = gesso::io::SafetensorsFile::open(fixture("benign.safetensors").toStdString());
    size_t expected_count = 0;
    double max_diff = 0;
    for (const auto& info : twin->tensors()) {
      const bool ema = startsWith(info.name, "model_ema.");
      if (prune && ema) {
        QVERIFY2(!converted->contains(info.name), info.name.c_str());
        continue;
      }
      ++expected_count;
      QVERIFY2(converted->contains(info.name), info.name.c_str());
      const at::Tensor original = twin->tensor(info.name);
      const at::Tensor tensor = converted->tensor(info.name);
      const at::Tensor expected = at::isFloatingType(original.scalar_type()) ? original.to(target) : original;
      QVERIFY2(tensor.scalar_type() == expected.scalar_type(), info.name.c_str());
      if (tensor.numel() > 0 && at::isFloatingType(tensor.scalar_type())) {
        max_diff = std::max(max_diff, (tensor.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>());
      }
      QVERIFY2(at::equal(tensor, expected), info.name.c_str());
    }
    QCOMPARE(converted->tensors().size(), expected_count);
    qInfo("%s: maxdiff=%g against the twin cast to %s", qPrintable(dtype), max_diff, qPrintable(dtype));
  }

  void refusesMaliciousCkpt_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("named");
    QTest::newRow("os.system") << "os_system.ckpt" << "os.system";
    QTest::newRow("eval") << "builtins_eval.ckpt" << "builtins.eval";
    QTest::newRow("zip escape") << "zip_escape.ckpt" << "../../evil";
  }
  void refusesMaliciousCkpt() {
    QFETCH(QString, file);
    QFETCH(QString, named);
    const QString marker = temp_.filePath("pwned");
    const QString out = temp_.filePath("never.safetensors");
    const Run run = runCli({"convert", fixture(file.toUtf8().constData()), out}, marker);
    QVERIFY2(run.exit_code != 0, "a malicious checkpoint was converted");
    QVERIFY2(run.err.contains(named) && run.err.contains(file), qPrintable(run.err));
    QVERIFY2(!QFileInfo::exists(marker), "the payload ran");
    QVERIFY(!QFileInfo::exists(out));
  }

  // LDM single file -> diffusers folder -> io::Checkpoint::open: the same tensors under the same names.
  void diffusersRoundTrip_data() {
    QTest::addColumn<QStringList>("parts");
    QTest::newRow("sd1") << QStringList{"unet_tiny", "vae_tiny", "text_clip_tiny"};
    QTest::newRow("sd2") << QStringList{"unet_tiny_linear", "vae_tiny", "text_openclip_tiny"};
    QTest::newRow("sdxl") << QStringList{"unet_tiny_xl", "vae_tiny", "text_sdxl_tiny"};
  }
  void diffusersRoundTrip() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QStringList, parts);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& part : parts) {
      auto file = gesso::test::openGolden((part + ".safetensors").toStdString());
      for (const auto& info : file->tensors()) tensors.emplace_back(info.name, file->tensor(info.name));
    }
    const QString name = QString(QTest::currentDataTag());
    const QString ldm = temp_.filePath(name + "_ldm.safetensors");
    gesso::io::writeSafetensors(ldm.toStdString(), tensors);
    // The UNet's YAML beside the file gives what shapes cannot (head widths), as it would for a real checkpoint.
    if (!gesso::yamlSupported()) QSKIP("built without YAML support");
    QFile::remove(temp_.filePath(name + "_ldm.yaml"));
    QVERIFY(QFile::copy(QString::fromStdString(gesso::test::goldenPath((parts[0] + ".yaml").toStdString())), temp_.filePath(name + "_ldm.yaml")));
    const QString folder = temp_.filePath(name + "_diffusers");
    const Run run = runCli({"convert", ldm, folder, "--to", "diffusers"});
    qInfo("%s", qPrintable(run.err.trimmed()));
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY(QFileInfo::exists(folder + "/model_index.json"));

    const auto opened = gesso::captureErrors([&] { return gesso::io::Checkpoint::open(folder.toStdString()); });
    QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message().c_str());
    const gesso::io::Checkpoint& back = *opened;
    size_t compared = 0;
    for (const auto& [key, tensor] : tensors) {
      const gesso::io::TensorSource* source = back.find(key);
      if (!source) {
        QVERIFY2(gesso::io::ignorableReason(key) != nullptr, qPrintable("lost in the round trip: " + QString::fromStdString(key)));
        continue;
      }
      QVERIFY2(at::equal(source->load(), tensor), key.c_str());
      ++compared;
    }
    qInfo("%zu of %zu tensors equal after the round trip (maxdiff=0)", compared, tensors.size());
    QVERIFY(compared + 4 >= tensors.size());

    // The written config.json files describe the same networks as the LDM file and its YAML.
    const auto expected = gesso::captureErrors([&] { return gesso::resolveConfig(gesso::io::Checkpoint::open(ldm.toStdString())).config; });
    QVERIFY2(expected.ok(), expected.ok() ? "" : expected.error().message().c_str());
    const auto reread = gesso::captureErrors([&] { return gesso::resolveConfig(back).config; });
    QVERIFY2(reread.ok(), reread.ok() ? "" : reread.error().message().c_str());
    const gesso::ModelConfig& detected = *expected;
    const gesso::ModelConfig& resolved = *reread;
    QCOMPARE(QString::fromStdString(gesso::unetConfigToJson(gesso::canonicalUNet(resolved.unet))),
             QString::fromStdString(gesso::unetConfigToJson(gesso::canonicalUNet(detected.unet))));
    QCOMPARE(QString::fromStdString(gesso::vaeConfigToJson(resolved.vae)), QString::fromStdString(gesso::vaeConfigToJson(detected.vae)));
    QCOMPARE(resolved.prediction, detected.prediction);
    QCOMPARE(resolved.text_encoders.size(), detected.text_encoders.size());
    for (size_t i = 0; i < detected.text_encoders.size(); ++i) {
      QCOMPARE(QString::fromStdString(gesso::textEncoderConfigToJson(resolved.text_encoders[i])),
               QString::fromStdString(gesso::textEncoderConfigToJson(detected.text_encoders[i])));
    }
  }

  // --vae bakes another VAE in: the output's first_stage_model.* are that VAE's, everything else the input's.
  void bakesAVae() {
    const QString base = temp_.filePath("bake_base.safetensors");
    const QString donor = temp_.filePath("bake_donor.safetensors");
    gesso::test::writeTinyCheckpoint(base.toStdString(), gesso::test::tinySd1Config(), 7);
    gesso::test::writeTinyCheckpoint(donor.toStdString(), gesso::test::tinySd1Config(), 8);
    const QString out = temp_.filePath("bake_out.safetensors");
    const Run run = runCli({"convert", base, out, "--vae", donor});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    auto written = gesso::io::SafetensorsFile::open(out.toStdString());
    auto from_base = gesso::io::SafetensorsFile::open(base.toStdString());
    auto from_donor = gesso::io::SafetensorsFile::open(donor.toStdString());
    QCOMPARE(written->tensors().size(), from_base->tensors().size());
    int vae_tensors = 0, differing = 0;
    for (const auto& info : written->tensors()) {
      const bool vae = startsWith(info.name, "first_stage_model.");
      vae_tensors += vae;
      const at::Tensor expected = (vae ? from_donor : from_base)->tensor(info.name);
      QVERIFY2(at::equal(written->tensor(info.name), expected), info.name.c_str());
      differing += vae && !at::equal(expected, from_base->tensor(info.name));
    }
    qInfo("baked VAE: %d first_stage_model tensors from the donor (%d differ from the base's)", vae_tensors, differing);
    QVERIFY(vae_tensors > 0 && differing > 0);
    const Run missing = runCli({"convert", base, temp_.filePath("bake_missing.safetensors"), "--vae", temp_.filePath("nope.safetensors")});
    QVERIFY(missing.exit_code != 0);
    QVERIFY2(missing.err.contains("nope.safetensors"), qPrintable(missing.err));
    QVERIFY(!QFileInfo::exists(temp_.filePath("bake_missing.safetensors")));
  }

  void refusesExistingDiffusersFolder() {
    const Run run = runCli({"convert", fixture("benign.ckpt"), temp_.path(), "--to", "diffusers"});
    QVERIFY(run.exit_code != 0);
    QVERIFY2(run.err.contains("already exists"), qPrintable(run.err));
  }
};

QTEST_GUILESS_MAIN(CliConvertTest)
#include "test_cli_convert.moc"
