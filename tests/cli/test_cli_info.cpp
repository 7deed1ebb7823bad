// gesso-cli info, run as a process: golden checkpoints (text and JSON), a full single-file model, a replaced VAE,
// stray keys and corrupted or missing files (non-zero exit, the message names the file).
#include "gesso/io/safetensors.h"
#include "gesso/models/model_config_files.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

namespace {

struct Run {
  int exit_code = -1;
  QString out;
  QString err;
};

Run runCli(const QStringList& arguments) {
  QProcess process;
  process.start(gesso::test::cliPath(), arguments);
  Run run;
  if (!process.waitForFinished(60000)) return run;
  run.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
  run.out = QString::fromUtf8(process.readAllStandardOutput());
  run.err = QString::fromUtf8(process.readAllStandardError());
  return run;
}

QString golden(const char* name) { return QString::fromStdString(gesso::test::goldenPath(name)); }

std::vector<std::pair<std::string, at::Tensor>> allTensors(const char* name) {
  auto file = gesso::test::openGolden(name);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& info : file->tensors()) tensors.emplace_back(info.name, file->tensor(info.name));
  return tensors;
}

}  // namespace

class CliInfoTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (gesso::test::cliPath().isEmpty() || !QFileInfo(gesso::test::cliPath()).isExecutable()) {
      QSKIP("gesso-cli not found (set GESSO_CLI; CTest does)");
    }
  }

  void describesGoldenUNet() {
    GESSO_REQUIRE_SHARED();
    if (!gesso::yamlSupported()) QSKIP("built without YAML support");
    const Run run = runCli({"info", golden("unet_tiny.safetensors")});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains("792,964 parameters"), qPrintable(run.out));
    QVERIFY2(run.out.contains("unet_tiny.yaml"), qPrintable(run.out));  // the YAML beside it is the config
    QVERIFY2(run.out.contains("\"num_heads\":2"), qPrintable(run.out));
  }

  void jsonOutput() {
    GESSO_REQUIRE_SHARED();
    const Run run = runCli({"info", golden("unet_tiny_xl.safetensors"), "--json"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QCOMPARE(json["prediction"].toString(), QString("epsilon"));
    const QJsonObject unet = json["components"].toArray().at(0).toObject();
    QCOMPARE(unet["name"].toString(), QString("unet"));
    QCOMPARE(unet["tensors"].toInt(), 292);
    QCOMPARE(unet["parameters"].toInteger(), qint64(1320804));
    QCOMPARE(unet["dtypes"].toArray().at(0).toString(), QString("F32"));
    QCOMPARE(json["config"].toObject()["unet"].toObject()["adm_in_channels"].toInt(), 24);
  }

  void fullModelReplacedVaeAndStrayKeys() {
    GESSO_REQUIRE_SHARED();
    if (!gesso::yamlSupported()) QSKIP("built without YAML support");
    QTemporaryDir dir;
    auto tensors = allTensors("unet_tiny.safetensors");
    for (auto& item : allTensors("text_clip_tiny.safetensors")) tensors.push_back(item);
    tensors.emplace_back("first_stage_model.encoder.conv_in.weight", at::zeros({32, 3, 3, 3}));  // replaced by --vae
    tensors.emplace_back("alphas_cumprod", at::ones({1000}));
    const QString path = dir.filePath("model.safetensors");
    gesso::io::writeSafetensors(path.toStdString(), tensors);

    Run run = runCli({"info", path, "--vae", golden("vae_tiny.safetensors"), "--config", golden("unet_tiny.yaml"), "--json"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QCOMPARE(json["family"].toString(), QString("SD1.x"));  // from the text encoder's keys
    const QJsonArray components = json["components"].toArray();
    QCOMPARE(components.size(), 3);
    QCOMPARE(components.at(1).toObject()["tensors"].toInt(), 124);
    QCOMPARE(components.at(1).toObject()["parameters"].toInteger(), qint64(658375));
    QCOMPARE(components.at(2).toObject()["dtypes"].toArray().size(), 2);  // F16 weights + I64 position_ids
    QCOMPARE(json["ignored"].toArray().size(), 1);

    // A key that belongs to no component and is not ignorable is an error naming it.
    tensors.pop_back();
    tensors.emplace_back("some_unknown.weight", at::ones({2}));
    gesso::io::writeSafetensors(path.toStdString(), tensors);
    run = runCli({"info", path, "--vae", golden("vae_tiny.safetensors")});
    QVERIFY(run.exit_code != 0);
    QVERIFY2((run.out + run.err).contains("some_unknown.weight"), qPrintable(run.out + run.err));
  }

  void corruptedFileFails() {
    QTemporaryDir dir;
    const QString path = dir.filePath("corrupt.safetensors");
    {
      std::ofstream out(path.toStdString(), std::ios::binary);
      // A valid header whose tensor claims more bytes than the file holds.
      const std::string header = R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 99]}})";
      for (int i = 0; i < 8; ++i) out.put(static_cast<char>((header.size() >> (8 * i)) & 0xff));
      out << header << std::string(16, '\0');
    }
    Run run = runCli({"info", path});
    QVERIFY(run.exit_code != 0);
    QVERIFY2((run.out + run.err).contains("corrupt.safetensors"), qPrintable(run.out + run.err));

    run = runCli({"info", dir.filePath("absent.safetensors")});
    QVERIFY(run.exit_code != 0);
    QVERIFY2((run.out + run.err).contains("absent.safetensors"), qPrintable(run.out + run.err));
  }
};

QTEST_GUILESS_MAIN(CliInfoTest)
#include "test_cli_info.moc"
