// SIGKILL of the real desktop app while it generates: the `gesso` process runs offscreen with its own settings and
// app-data folders, starts a queue of generations left by a "previous session" (--resume-queue) with the bundled
// model, and is killed at a random moment after an image lands. After every kill the output folder holds only
// complete PNGs (each decodes and carries its request), queue.json and history.json load, and no job is lost: every
// seed is either written or still queued. A last start finishes the queue. GESSO_APP_KILLS sets the number of kills
// (default 2; scripts/kill.sh app: more).
#include "gesso/error.h"
#include "gesso/pipeline/bundled_model.h"
#include "gesso/pipeline/output.h"
#include "golden.h"
#include "persistence/job_store.h"
#include "settings/app_settings.h"

#include <QDir>
#include <QElapsedTimer>
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QSettings>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <cstdlib>
#include <random>

using namespace gesso;

namespace {

constexpr int kFirstSeed = 500;

struct FolderCheck {
  QSet<qint64> seeds;  // of the complete PNGs
  int pngs = 0;
  QStringList problems;
};

// Every *.png decodes and carries its request; anything else must be a hidden temporary file of a cut-off write.
FolderCheck checkOutputFolder(const QString& folder) {
  FolderCheck check;
  for (const QFileInfo& entry : QDir(folder).entryInfoList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot)) {
    const QString name = entry.fileName();
    if (name.startsWith(".") && name.contains(".tmp-")) continue;
    if (!name.endsWith(".png")) {
      check.problems << name + ": not an image";
      continue;
    }
    const QImage image(entry.filePath());
    if (image.isNull() || image.width() != 64) {
      check.problems << name + ": does not decode as a 64x64 PNG";
      continue;
    }
    try {
      check.seeds.insert(pipeline::requestFromPng(entry.filePath().toStdString()).seed);
      ++check.pngs;
    } catch (const GessoError& error) {
      check.problems << name + ": " + error.what();
    }
  }
  return check;
}

}  // namespace

class KillAppTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  const int kills_ = gesso::test::countFromEnv("GESSO_APP_KILLS", 2);
  const int jobs_ = 4 * kills_ + 4;  // more jobs than kills, so every kill interrupts a moving queue
  QString outputs_;
  QString app_data_;

  QProcessEnvironment appEnvironment() const {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("HOME", dir_.path());
    environment.insert("XDG_CONFIG_HOME", dir_.filePath("config"));
    environment.insert("XDG_DATA_HOME", dir_.filePath("data"));
    environment.insert("QT_QPA_PLATFORM", "offscreen");
    return environment;
  }

  // Starts the app on the queue left on disk; returns once it runs.
  bool startApp(QProcess& process) const {
    process.setProcessEnvironment(appEnvironment());
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral(GESSO_APP_PATH), {"--resume-queue"});
    return process.waitForStarted(30000);
  }

  // No job lost: each seed is written or still queued; the queue and history files load, and every history entry
  // is a complete PNG.
  void checkNothingLost(const FolderCheck& folder) {
    QVERIFY2(folder.problems.isEmpty(), qPrintable(folder.problems.join("\n")));
    const ui::JobStore store(app_data_);
    QSet<qint64> queued;
    for (const auto& job : store.loadQueue()) queued.insert(job.request.seed);
    for (int i = 0; i < jobs_; ++i) {
      QVERIFY2(folder.seeds.contains(kFirstSeed + i) || queued.contains(kFirstSeed + i),
               qPrintable(QString("seed %1 neither written nor queued").arg(kFirstSeed + i)));
    }
    for (const auto& entry : store.loadHistory()) {
      QVERIFY2(!QImage(entry.path).isNull(), qPrintable(entry.path + " in history.json is not a complete PNG"));
    }
  }

 private slots:
  void initTestCase() {
    if (pipeline::bundledModelPath().empty()) QSKIP("the bundled model is not installed");
    outputs_ = dir_.filePath("outputs");
    // What QStandardPaths gives the app (organisation "Gesso", name "gesso") under the XDG folders set above.
    app_data_ = dir_.filePath("data/Gesso/gesso");
    QVERIFY(QDir().mkpath(app_data_));
    QSettings settings(dir_.filePath("config/Gesso/gesso.conf"), QSettings::IniFormat);
    ui::AppSettingsValues values = ui::AppSettings::defaults();
    values.models_folder = dir_.filePath("models");
    values.outputs_folder = outputs_;
    values.lora_folder = dir_.filePath("loras");
    values.threads = 1;
    values.preview_every = 1;
    ui::AppSettings(&settings).save(values);
    settings.sync();
    QList<ui::QueuedGeneration> queue;
    for (int i = 0; i < jobs_; ++i) {
      ui::QueuedGeneration job;
      job.request.model = pipeline::bundledModelPath();
      job.request.prompt = "a large red circle on the left, blue background";
      job.request.width = job.request.height = 64;
      job.request.steps = 20;
      job.request.seed = kFirstSeed + i;
      job.output_directory = outputs_;
      queue.append(job);
    }
    QVERIFY(ui::JobStore(app_data_).saveQueue(queue));
  }

  void queueAndHistorySurviveKills() {
    std::mt19937 random(11);
    std::uniform_int_distribution<int> extra_ms(0, 1500);  // 64x64 images take 0.3-1 s here
    int killed_while_running = 0;
    int killed = 0;
    for (int i = 0; i < kills_; ++i) {
      const int before = checkOutputFolder(outputs_).pngs;
      if (before >= jobs_) break;  // the queue ran out: nothing left to interrupt
      QProcess app;
      QVERIFY(startApp(app));
      // Wait for an image from this run (so the queue is moving), then kill at a random moment after it.
      QElapsedTimer waited;
      waited.start();
      while (checkOutputFolder(outputs_).pngs == before && waited.elapsed() < 120000 && app.state() == QProcess::Running) {
        QThread::msleep(20);
      }
      QVERIFY2(app.state() == QProcess::Running, qPrintable(QString::fromLocal8Bit(app.readAll())));
      QThread::msleep(static_cast<unsigned long>(extra_ms(random)));
      killed_while_running += app.state() == QProcess::Running;
      app.kill();  // SIGKILL
      QVERIFY(app.waitForFinished(30000));
      ++killed;
      const FolderCheck folder = checkOutputFolder(outputs_);
      checkNothingLost(folder);
      if (QTest::currentTestFailed()) return;
      qInfo("kill %d: %d complete PNGs (seeds %d of %d written), %d job(s) still queued", i + 1, folder.pngs,
            int(folder.seeds.size()), jobs_, int(ui::JobStore(app_data_).loadQueue().size()));
    }

    // A last start finishes what is queued.
    QProcess app;
    QVERIFY(startApp(app));
    QElapsedTimer waited;
    waited.start();
    while ((checkOutputFolder(outputs_).seeds.size() < jobs_ || !ui::JobStore(app_data_).loadQueue().isEmpty()) &&
           waited.elapsed() < 180000 && app.state() == QProcess::Running) {
      QThread::msleep(50);
    }
    app.kill();
    QVERIFY(app.waitForFinished(30000));
    const FolderCheck folder = checkOutputFolder(outputs_);
    checkNothingLost(folder);
    QCOMPARE(int(folder.seeds.size()), jobs_);
    QVERIFY(ui::JobStore(app_data_).loadQueue().isEmpty());
    QSet<qint64> in_history;
    for (const auto& entry : ui::JobStore(app_data_).loadHistory()) in_history.insert(entry.parameters.seed);
    QCOMPARE(int(in_history.size()), jobs_);
    qInfo("%d SIGKILLs of the app (%d while it ran); afterwards %d complete PNGs for %d jobs (a job cut off after its "
          "PNG was written runs again), every seed in history.json, the queue empty",
          killed, killed_while_running, folder.pngs, jobs_);
  }
};

QTEST_GUILESS_MAIN(KillAppTest)
#include "test_kill_app.moc"
