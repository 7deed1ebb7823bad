// gesso-cli train as a separate process on a tiny random checkpoint and a tiny dataset: a full run with samples,
// validation, checkpoints and metrics.jsonl; --export-checkpoint; Ctrl-C (SIGINT) saving a checkpoint and exiting
// cleanly; --resume; errors.
#include "cli_process.h"
#include "gesso/training/checkpoint_store.h"
#include "gesso/training/metrics.h"
#include "golden.h"
#include "pipeline_fixture.h"
#include "training_fixture.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <map>

using gesso::test::CliRun;
using gesso::test::finishCli;
using gesso::test::runCli;

class CliTrainTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_;
  QString tokenizer_;
  QString data_;

  QStringList base(const QString& run) const {
    return {"train", "--model", model_, "--tokenizer", tokenizer_, "--data", data_, "--output", dir_.filePath(run),
            "--method", "full", "--resolution", "64", "--batch-size", "2", "--lr", "1e-3", "--seed", "3",
            "--cache-dir", dir_.filePath("cache")};
  }

 private slots:
  void initTestCase() {
    tokenizer_ = QString::fromStdString(gesso::test::sharedTokenizerPath());
    if (tokenizer_.isEmpty()) return;
    model_ = dir_.filePath("tiny.safetensors");
    gesso::test::writeTinyCheckpoint(model_.toStdString(), gesso::test::tinySd1Config());
    data_ = dir_.filePath("data");
    gesso::test::writeTinyDataset(data_.toStdString(), gesso::test::TinyImages::PlainColours, 4);
  }

  void trainsWithSamplesValidationAndCheckpoints() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const QString prompts = dir_.filePath("prompts.txt");
    {
      QFile file(prompts);
      QVERIFY(file.open(QIODevice::WriteOnly));
      file.write("a plain colour 1\n\na plain colour 2\n");
    }
    const QString run_dir = dir_.filePath("run");
    QStringList arguments = base("run");
    arguments << "--steps" << "4" << "--save-every" << "2" << "--keep" << "5" << "--sample-every" << "4"
              << "--sample-prompts" << prompts << "--sample-steps" << "2" << "--validation-split" << "0.25"
              << "--validate-every" << "2" << "--ema" << "0.9" << "--lr-scheduler" << "linear" << "--warmup" << "1";
    const CliRun run = runCli(arguments);
    QVERIFY2(run.exit_code == 0, qPrintable(run.output + run.errors));
    const auto records = gesso::training::readMetrics(run_dir.toStdString());
    std::map<std::string, int> counts;
    for (const auto& r : records) counts[r.type]++;
    QCOMPARE(counts["step"], 4);
    QCOMPARE(counts["validation"], 2);
    QCOMPARE(counts["samples"], 1);
    QCOMPARE(counts["checkpoint"], 2);
    QCOMPARE(QDir(run_dir + "/samples").entryList(QDir::Files).size(), 2);  // two prompts, the blank line skipped
    QCOMPARE(gesso::training::listCheckpoints(run_dir.toStdString()).size(), size_t(2));
    // Every metrics line is one JSON object with a type.
    QFile metrics(run_dir + "/metrics.jsonl");
    QVERIFY(metrics.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = metrics.readAll().split('\n');
    QVERIFY(lines.first().startsWith("{\"type\":") || lines.first().contains("\"type\""));

    // --export-checkpoint: the last checkpoint as a model file, the same tensors as the run's model.safetensors.
    const QString exported = dir_.filePath("step4.safetensors");
    const CliRun exporting = runCli({"train", "--export-checkpoint", run_dir + "/checkpoints/step-00000004", "--output", exported});
    QVERIFY2(exporting.exit_code == 0, qPrintable(exporting.output + exporting.errors));
    QCOMPARE(exporting.output.trimmed(), exported);
    const double diff = gesso::test::maxFileDiff(exported.toStdString(), (run_dir + "/model.safetensors").toStdString());
    qInfo("gesso-cli train --export-checkpoint (last step) vs model.safetensors: max diff %.3g", diff);
    QCOMPARE(diff, 0.0);
    const CliRun missing = runCli({"train", "--export-checkpoint", run_dir + "/checkpoints/step-00000004"});
    QVERIFY(missing.exit_code != 0);
    QVERIFY2(missing.errors.contains("--output"), qPrintable(missing.errors));
  }

  void interruptSavesAndResumes() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const QString run_dir = dir_.filePath("interrupted");
    QProcess process;
    process.start(gesso::test::cliPath(), base("interrupted") << "--steps" << "100000");
    QVERIFY(process.waitForStarted());
    // Wait for the first step record, then Ctrl-C.
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 120000) {
      QFile metrics(run_dir + "/metrics.jsonl");
      if (metrics.open(QIODevice::ReadOnly) && metrics.readAll().contains("\"type\":\"step\"")) break;
      QTest::qWait(100);
    }
    ::kill(static_cast<pid_t>(process.processId()), SIGINT);
    const CliRun run = finishCli(process);
    QVERIFY2(run.exit_code == 0, qPrintable(run.output + run.errors));
    QVERIFY2(run.errors.contains("--resume"), qPrintable(run.errors));
    const auto checkpoints = gesso::training::listCheckpoints(run_dir.toStdString());
    QCOMPARE(checkpoints.size(), size_t(1));
    gesso::training::verifyCheckpoint(checkpoints[0].path);
    const int64_t saved = checkpoints[0].step;
    QVERIFY(saved >= 1 && saved < 100000);

    // Continue for two more steps.
    const CliRun resumed = runCli({"train", "--resume", run_dir, "--steps", QString::number(saved + 2)});
    QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.output + resumed.errors));
    QVERIFY2(resumed.errors.contains("resumed from"), qPrintable(resumed.errors));
    QCOMPARE(gesso::training::listCheckpoints(run_dir.toStdString()).back().step, saved + 2);
  }

  void reportsBadOptions() {
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    CliRun run = runCli(base("bad") << "--method" << "dreambooth");
    QVERIFY(run.exit_code != 0);
    QVERIFY2(run.errors.contains("method"), qPrintable(run.errors));
    run = runCli(base("bad") << "--steps" << "3" << "--epochs" << "2");
    QVERIFY(run.exit_code != 0);
    run = runCli({"train", "--resume", dir_.filePath("nothing-here")});
    QVERIFY(run.exit_code != 0);
    QVERIFY2(run.errors.contains("no complete checkpoint"), qPrintable(run.errors));
  }
};

QTEST_GUILESS_MAIN(CliTrainTest)
#include "test_cli_train.moc"
