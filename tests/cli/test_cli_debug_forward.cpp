// gesso-cli debug forward, run as a separate process on the golden models: each component's outputs under the
// contract's tensor names equal the reference tensors.
#include "gesso/io/safetensors.h"
#include "gesso/models/model_config_files.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

using NameMap = QList<QPair<QString, QString>>;  // (name in the CLI's file, name in the golden io file)

NameMap names(const QString& spec, const QString& case_prefix) {
  NameMap map;
  for (const QString& pair : spec.split(';', Qt::SkipEmptyParts)) {
    const QStringList parts = pair.split('=');
    map.append({parts[0], case_prefix + parts[1]});
  }
  return map;
}

struct Run {
  int exit_code = -1;
  QString output;
};

Run runCli(const QStringList& arguments) {
  QProcess process;
  process.setProcessChannelMode(QProcess::MergedChannels);
  process.start(gesso::test::cliPath(), arguments);
  process.waitForFinished(120000);
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1, QString::fromLocal8Bit(process.readAll())};
}

}  // namespace

class CliDebugForwardTest : public QObject {
  Q_OBJECT

 private slots:
  void matchesGolden_data() {
    QTest::addColumn<QString>("component");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("config");  // empty: the files beside the model
    QTest::addColumn<QString>("io");
    QTest::addColumn<QString>("inputs");
    QTest::addColumn<QString>("expected");

    const QString unet_in = "x=x;timesteps=timesteps;context=context";
    for (const QString c : {"case0/", "case1/"}) {
      QTest::newRow(qPrintable("unet " + c)) << "unet" << "unet_tiny.safetensors" << "unet_tiny.yaml" << "unet_tiny_io.safetensors"
                                             << c + unet_in << c + "out=out";
      QTest::newRow(qPrintable("unet linear, yaml beside " + c))
          << "unet" << "unet_tiny_linear.safetensors" << "" << "unet_tiny_linear_io.safetensors" << c + unet_in << c + "out=out";
      QTest::newRow(qPrintable("unet xl " + c)) << "unet" << "unet_tiny_xl.safetensors" << "unet_tiny_xl.yaml"
                                                << "unet_tiny_xl_io.safetensors" << c + unet_in + ";y=y" << c + "out=out";
      QTest::newRow(qPrintable("vae-encode " + c)) << "vae-encode" << "vae_tiny.safetensors" << "vae_tiny.yaml" << "vae_tiny_io.safetensors"
                                                   << c + "x=x" << c + "mean=mean;logvar=logvar;std=std;moments=moments";
      QTest::newRow(qPrintable("vae-decode " + c)) << "vae-decode" << "vae_tiny.safetensors" << "" << "vae_tiny_io.safetensors"
                                                   << c + "z=z" << c + "out=decoded";
      QTest::newRow(qPrintable("text clip " + c))
          << "text-encoder" << "text_clip_tiny.safetensors" << "text_clip_tiny.config.json" << "text_clip_tiny_io.safetensors"
          << c + "input_ids=input_ids"
          << c + "last_hidden_state=last_hidden_state;penultimate_hidden_state=penultimate_hidden_state;pooler_output=pooler_output";
      QTest::newRow(qPrintable("text openclip " + c))
          << "text-encoder" << "text_openclip_tiny.safetensors" << "text_openclip_tiny.open_clip.json"
          << "text_openclip_tiny_io.safetensors" << c + "input_ids=input_ids"
          << c + "last_hidden_state=last;penultimate_hidden_state=penultimate;pooled=pooled";
      QTest::newRow(qPrintable("text sdxl embedder 0 " + c))
          << "text-encoder" << "text_sdxl_tiny.safetensors" << "text_sdxl_tiny.embedder0.config.json"
          << "text_sdxl_tiny_io.safetensors" << c + "input_ids=emb0/input_ids" << c + "penultimate_hidden_state=emb0/hidden";
      QTest::newRow(qPrintable("text sdxl embedder 1 " + c))
          << "text-encoder" << "text_sdxl_tiny.safetensors" << "text_sdxl_tiny.embedder1.open_clip.json"
          << "text_sdxl_tiny_io.safetensors" << c + "input_ids=emb1/input_ids"
          << c + "last_hidden_state=emb1/last;penultimate_hidden_state=emb1/penultimate;pooled=emb1/pooled";
    }
  }

  void matchesGolden() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, component);
    QFETCH(QString, model);
    QFETCH(QString, config);
    QFETCH(QString, io);
    QFETCH(QString, inputs);
    QFETCH(QString, expected);
    // The tiny UNets and the VAE need their YAML configs (given, or beside the model): not in a build without YAML.
    if (!gesso::yamlSupported() && (config.endsWith(".yaml") || config.isEmpty())) {
      QSKIP("this build reads no YAML configs (GESSO_WITH_YAML=OFF)");
    }
    const auto case_prefix = inputs.left(inputs.indexOf('/') + 1);
    const auto golden = gesso::test::openGolden(io.toStdString());

    QTemporaryDir dir;
    const QString in_path = dir.filePath("in.safetensors");
    const QString out_path = dir.filePath("out.safetensors");
    std::vector<std::pair<std::string, at::Tensor>> input_tensors;
    for (const auto& [name, source] : names(inputs.mid(case_prefix.size()), case_prefix)) {
      input_tensors.emplace_back(name.toStdString(), golden->tensor(source.toStdString()));
    }
    gesso::io::writeSafetensors(in_path.toStdString(), input_tensors);

    QStringList arguments{"debug", "forward", "--component", component, "--model",
                          QString::fromStdString(gesso::test::goldenPath(model.toStdString())), "--inputs", in_path,
                          "--output", out_path};
    if (!config.isEmpty()) arguments << "--config" << QString::fromStdString(gesso::test::goldenPath(config.toStdString()));
    const Run run = runCli(arguments);
    QVERIFY2(run.exit_code == 0, qPrintable(run.output));

    const auto result = gesso::io::SafetensorsFile::open(out_path.toStdString());
    for (const auto& [name, source] : names(expected.mid(case_prefix.size()), case_prefix)) {
      QVERIFY2(result->contains(name.toStdString()), qPrintable("output lacks " + name));
      GESSO_COMPARE_TENSORS(name, result->tensor(name.toStdString()),
                            gesso::test::goldenTensor(*golden, source.toStdString()), 1e-4, 1e-4);
    }
  }

  void reportsBadInput() {
    GESSO_REQUIRE_SHARED();
    QTemporaryDir dir;
    const QString in_path = dir.filePath("in.safetensors");
    gesso::io::writeSafetensors(in_path.toStdString(), {{"x", at::zeros({1, 4, 8, 8})}});
    const QString model = QString::fromStdString(gesso::test::goldenPath("unet_tiny.safetensors"));
    const Run missing = runCli({"debug", "forward", "--component", "unet", "--model", model, "--inputs", in_path,
                                "--output", dir.filePath("out.safetensors")});
    QVERIFY(missing.exit_code != 0);
    QVERIFY2(missing.output.contains("'timesteps'") || missing.output.contains("'context'"), qPrintable(missing.output));
    QVERIFY(!QFile::exists(dir.filePath("out.safetensors")));

    // A VAE asked of a UNet-only file names what is missing.
    const Run wrong = runCli({"debug", "forward", "--component", "vae-decode", "--model", model, "--inputs", in_path,
                              "--output", dir.filePath("out.safetensors")});
    QVERIFY(wrong.exit_code != 0);
    QVERIFY2(wrong.output.contains("first_stage_model."), qPrintable(wrong.output));
  }
};

QTEST_GUILESS_MAIN(CliDebugForwardTest)
#include "test_cli_debug_forward.moc"
