// SIGKILL at random moments of `gesso-cli train` (tiny model, --save-every 1 --keep 2): after each kill the newest
// checkpoint folder verifies, no complete checkpoint is lost, and `--resume RUN_DIR` continues from it (a fresh start
// when none was completed yet); at the end the run completes. A full disk during a checkpoint save
// (GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES) keeps the previous checkpoint and a later --resume continues from it.
// GESSO_TRAIN_KILLS sets the number of kills (default 3; `scripts/kill.sh train 50`).
#include "cli_process.h"
#include "gesso/error.h"
#include "gesso/training/checkpoint_store.h"
#include "gesso/training/metrics.h"
#include "golden.h"
#include "pipeline_fixture.h"
#include "training_fixture.h"

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <cstdlib>
#include <filesystem>
#include <random>

namespace {

namespace fs = std::filesystem;
namespace training = gesso::training;

using gesso::test::CliRun;
using gesso::test::finishCli;
using gesso::test::runCli;

// The newest complete checkpoint's step, or -1. The newest step-N folder must itself verify: pruning removes only
// older ones, and a folder gets its final name only once complete.
int64_t newestStep(const std::string& run_dir, QString* problem) {
  const auto all = training::listCheckpoints(run_dir);
  if (all.empty()) return -1;
  try {
    training::verifyCheckpoint(all.back().path);
  } catch (const gesso::GessoError& error) {
    *problem = QString::fromStdString(error.error().detail);
  }
  return all.back().step;
}

// Temporary checkpoint folders left in RUN_DIR/checkpoints by process `pid` (".tmp-step-N-PID").
int temporariesOf(const std::string& run_dir, qint64 pid) {
  int count = 0;
  std::error_code error;
  const std::string suffix = "-" + std::to_string(pid);
  for (const auto& entry : fs::directory_iterator(training::checkpointsFolder(run_dir), error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0 && name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) ++count;
  }
  return count;
}

int temporaries(const std::string& run_dir) {
  int count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(training::checkpointsFolder(run_dir), error)) {
    if (entry.path().filename().string().rfind(".tmp-", 0) == 0) ++count;
  }
  return count;
}

// "start" records in RUN_DIR/metrics.jsonl: one more appears when a run has finished loading and begins training.
int startRecords(const QString& run_dir) {
  QFile metrics(run_dir + "/metrics.jsonl");
  if (!metrics.open(QIODevice::ReadOnly)) return 0;
  return metrics.readAll().count("\"type\":\"start\"");
}

// Waits until `process` has written a new start record (true) or has ended (false).
bool waitForTraining(QProcess& process, const QString& run_dir, int starts_before) {
  while (startRecords(run_dir) <= starts_before) {
    if (process.state() != QProcess::Running || process.waitForFinished(10)) return false;
  }
  return true;
}

uint64_t folderBytes(const std::string& folder) {
  uint64_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(folder)) bytes += entry.is_regular_file() ? entry.file_size() : 0;
  return bytes;
}

}  // namespace

class KillTrainTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_;
  QString tokenizer_;
  QString data_;
  uint64_t checkpoint_bytes_ = 0;  // one checkpoint folder of this model (measured by the first probe)

  QStringList fresh(const QString& run_dir, int64_t steps, int save_every) const {
    return {"train", "--model", model_, "--tokenizer", tokenizer_, "--data", data_, "--output", run_dir,
            "--method", "full", "--resolution", "64", "--batch-size", "2", "--lr", "1e-3", "--seed", "3",
            "--cache-dir", dir_.filePath("cache"), "--steps", QString::number(steps),
            "--save-every", QString::number(save_every), "--keep", "2"};
  }

  // Every kept checkpoint verifies, none is left half-written, and the metrics hold steps 1..last once each.
  void checkFinished(const QString& run_dir, int64_t last) {
    const std::string run = run_dir.toStdString();
    const auto kept = training::listCheckpoints(run);
    QCOMPARE(kept.size(), size_t(2));
    for (const auto& checkpoint : kept) training::verifyCheckpoint(checkpoint.path);
    QCOMPARE(kept.back().step, last);
    QCOMPARE(temporaries(run), 0);
    int64_t expected = 1;
    for (const auto& record : training::readMetrics(run)) {
      if (record.type != "step") continue;
      QCOMPARE(record.step.step, expected);
      ++expected;
    }
    QCOMPARE(expected, last + 1);
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

  void trainingSurvivesKills() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const int kills = gesso::test::countFromEnv("GESSO_TRAIN_KILLS", 3);

    // One undisturbed run of 3 steps: its whole length (start-up, caches, 3 steps, 3 checkpoint saves) and its
    // training part (from the start record to the exit) span the kill moments.
    QElapsedTimer timer;
    timer.start();
    const QString probe_dir = dir_.filePath("probe");
    QProcess probe_process;
    probe_process.start(gesso::test::cliPath(), fresh(probe_dir, 3, 1));
    QVERIFY(probe_process.waitForStarted());
    QVERIFY(waitForTraining(probe_process, probe_dir, 0));
    const qint64 startup_ms = timer.elapsed();
    const CliRun probe = finishCli(probe_process);
    const qint64 full_ms = timer.elapsed();
    QVERIFY2(probe.exit_code == 0, qPrintable(probe.output + probe.errors));
    const qint64 train_ms = std::max<qint64>(1, full_ms - startup_ms);
    checkpoint_bytes_ = folderBytes(training::listCheckpoints(probe_dir.toStdString()).back().path);

    // The killed runs aim at 100000 steps, so a kill never meets a finished run; the last one sets the end.
    const QString run_dir = dir_.filePath("killed");
    const std::string run = run_dir.toStdString();
    std::mt19937 random(11);
    std::uniform_int_distribution<qint64> any_moment(0, full_ms);
    std::uniform_int_distribution<qint64> training_moment(0, train_ms);
    int killed_running = 0, killed_training = 0, during_save = 0, fresh_starts = 0, resumes = 0, resumes_ok = 0;
    int64_t previous = -1;
    for (int i = 0; i < kills; ++i) {
      QProcess process;
      const bool resume = previous >= 0;
      const int starts_before = startRecords(run_dir);
      process.start(gesso::test::cliPath(), resume ? QStringList{"train", "--resume", run_dir} : fresh(run_dir, 100000, 1));
      QVERIFY(process.waitForStarted());
      (resume ? resumes : fresh_starts)++;
      const qint64 pid = process.processId();
      // Every fourth kill at any moment of a run (start-up included); the others at a moment of its training part,
      // where the checkpoint saves happen, and a fresh run only once it has a checkpoint (so 3 kills resume too).
      if (i % 4 == 0) {
        QThread::msleep(static_cast<unsigned long>(any_moment(random)));
      } else if (waitForTraining(process, run_dir, starts_before)) {
        while (!resume && training::listCheckpoints(run).empty() && !process.waitForFinished(10)) {
        }
        ++killed_training;
        QThread::msleep(static_cast<unsigned long>(training_moment(random)));
      }
      if (process.state() == QProcess::Running) ++killed_running;
      process.kill();  // SIGKILL
      const CliRun killed = finishCli(process);
      if (temporariesOf(run, pid) > 0) ++during_save;
      // A resumed run that got as far as loading names the newest complete checkpoint before it.
      const int at = killed.errors.indexOf("resumed from ");
      if (resume && at >= 0) {
        const QString expected = QString::fromStdString(training::checkpointName(previous));
        QVERIFY2(killed.errors.mid(at, 200).contains(expected), qPrintable(killed.errors));
        ++resumes_ok;
      }
      QVERIFY2(resume || !killed.errors.contains("resumed from"), qPrintable(killed.errors));
      QString problem;
      const int64_t now = newestStep(run, &problem);
      QVERIFY2(problem.isEmpty(), qPrintable(problem));
      QVERIFY2(now >= previous, qPrintable(QString("kill %1 lost checkpoint step %2 (newest now %3)").arg(i).arg(previous).arg(now)));
      previous = now;
      if ((i + 1) % 10 == 0) qInfo("%d kills: newest complete checkpoint at step %lld", i + 1, static_cast<long long>(now));
    }

    // The last run: --resume (or a fresh start when no checkpoint was completed) to two steps past the newest.
    const int64_t last = std::max<int64_t>(previous, 0) + 2;
    const CliRun final_run = previous >= 0 ? runCli({"train", "--resume", run_dir, "--steps", QString::number(last)})
                                        : runCli(fresh(run_dir, last, 1));
    QVERIFY2(final_run.exit_code == 0, qPrintable(final_run.output + final_run.errors));
    if (previous >= 0) {
      ++resumes;
      const int at = final_run.errors.indexOf("resumed from ");
      QVERIFY2(at >= 0 && final_run.errors.mid(at, 200).contains(QString::fromStdString(training::checkpointName(previous))),
               qPrintable(final_run.errors));
      ++resumes_ok;
    }
    QVERIFY2(final_run.output.contains("model.safetensors"), qPrintable(final_run.output));
    checkFinished(run_dir, last);
    qInfo("%d SIGKILLs (%d at 0-%lld ms after launch, %d at 0-%lld ms after training began; %d while running, %d while a "
          "checkpoint temporary folder existed); %d fresh starts (no checkpoint yet), %d resumes (%d reached training, "
          "each from the newest complete checkpoint); the run completed at step %lld with 2 verified checkpoints",
          kills, kills - killed_training, static_cast<long long>(full_ms), killed_training, static_cast<long long>(train_ms),
          killed_running, during_save, fresh_starts, resumes, resumes_ok, static_cast<long long>(last));
  }

  // A full disk half-way through the second checkpoint: the run stops with the cause, step 2 stays complete and the
  // temporary folder is gone; --resume without the fault continues from step 2 to the end.
  void fullDiskKeepsPreviousCheckpoint() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    if (checkpoint_bytes_ == 0) {  // run alone: measure one checkpoint
      const CliRun probe = runCli(fresh(dir_.filePath("disk_probe"), 2, 2));
      QVERIFY2(probe.exit_code == 0, qPrintable(probe.output + probe.errors));
      checkpoint_bytes_ = folderBytes(training::listCheckpoints(dir_.filePath("disk_probe").toStdString()).back().path);
    }
    const uint64_t checkpoint_bytes = checkpoint_bytes_;
    // The first checkpoint and half of the second; the run's other writes (config.json, caches) are far smaller.
    const uint64_t limit = checkpoint_bytes + checkpoint_bytes / 2;

    const QString run_dir = dir_.filePath("full_disk");
    const std::string run = run_dir.toStdString();
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES", QString::number(limit));
    const CliRun failed = runCli(fresh(run_dir, 6, 2), environment);
    qInfo("checkpoint %llu bytes, writes fail after %llu; exit %d: %s", static_cast<unsigned long long>(checkpoint_bytes),
          static_cast<unsigned long long>(limit), failed.exit_code, qPrintable(failed.errors.trimmed().right(300)));
    QCOMPARE(failed.exit_code, 1);
    QVERIFY2(failed.errors.contains("No space left on device"), qPrintable(failed.errors));
    QVERIFY2(failed.errors.contains(QString::fromStdString(training::checkpointName(2))), qPrintable(failed.errors));
    const auto kept = training::listCheckpoints(run);
    QCOMPARE(kept.size(), size_t(1));
    QCOMPARE(kept[0].step, int64_t(2));
    training::verifyCheckpoint(kept[0].path);
    QCOMPARE(temporaries(run), 0);

    const CliRun resumed = runCli({"train", "--resume", run_dir});
    QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.output + resumed.errors));
    QVERIFY2(resumed.errors.contains("resumed from " + QString::fromStdString(kept[0].path)), qPrintable(resumed.errors));
    checkFinished(run_dir, 6);
  }
};

QTEST_GUILESS_MAIN(KillTrainTest)
#include "test_kill_train.moc"
