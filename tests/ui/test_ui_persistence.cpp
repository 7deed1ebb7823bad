// The queue and the history survive a restart and a kill: the files are rewritten atomically on every change
// (so what a kill leaves is the last state), queued jobs come back as "restored", finished images stay in the
// gallery with their parameters, and damaged files start the app with empty lists instead of failing.
#include "ui_fixture.h"

#include "persistence/job_store.h"

#include <QPushButton>
#include <QtTest>

using namespace gesso;

class UiPersistenceTest : public QObject {
  Q_OBJECT

  test::UiFixture fixture_;

  static pipeline::GenerateRequest sampleRequest(int i) {
    pipeline::GenerateRequest request;
    request.model = "/models/m.safetensors";
    request.prompt = QString("prompt %1, ünïcode \"quoted\"").arg(i).toStdString();
    request.seed = 1000 + i;
    request.cfg_scale = 0.1 + 0.2;  // exact doubles must survive
    request.eta = 0.3;
    return request;
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    if (!fixture_.prepare()) QSKIP("../shared/data/clip is absent");
  }

  void storeRoundTrips() {
    ui::JobStore store(fixture_.dir.filePath("roundtrip"));
    QList<ui::HistoryEntry> history;
    for (int i = 0; i < 3; ++i)
      history.append({QString("/out/%1.png").arg(i), sampleRequest(i), QDateTime::fromMSecsSinceEpoch(1700000000000 + i)});
    QList<ui::QueuedGeneration> queue{{sampleRequest(7), "/out"}, {sampleRequest(8), "/out2"}};
    QVERIFY(store.saveHistory(history));
    QVERIFY(store.saveQueue(queue));
    const QList<ui::HistoryEntry> history_back = store.loadHistory();
    const QList<ui::QueuedGeneration> queue_back = store.loadQueue();
    QCOMPARE(history_back.size(), 3);
    for (int i = 0; i < 3; ++i) {
      QCOMPARE(history_back[i].path, history[i].path);
      QVERIFY(history_back[i].parameters == history[i].parameters);
      QCOMPARE(history_back[i].finished, history[i].finished);
    }
    QCOMPARE(queue_back.size(), 2);
    QVERIFY(queue_back[1].request == queue[1].request);
    QCOMPARE(queue_back[1].output_directory, QString("/out2"));
    // No temporary files left beside them.
    QCOMPARE(QDir(store.directory()).entryList(QDir::Files).size(), 2);
  }

  void damagedFilesGiveEmptyLists() {
    ui::JobStore store(fixture_.dir.filePath("damaged"));
    QDir().mkpath(store.directory());
    QFile history(store.historyPath());
    QVERIFY(history.open(QIODevice::WriteOnly));
    history.write("[{\"path\": \"/a.png\", \"parameters\": ");  // cut off mid-write by someone else's tool
    history.close();
    QFile queue(store.queuePath());
    QVERIFY(queue.open(QIODevice::WriteOnly));
    queue.write("[{\"request\": \"{\\\"stepz\\\": 3}\", \"output_directory\": \"/o\"}]");  // unknown key: refused
    queue.close();
    QVERIFY(store.loadHistory().isEmpty());
    QVERIFY(store.loadQueue().isEmpty());
  }

  void queueAndHistorySurviveARestart() {
    ui::JobStore store(fixture_.store);
    // A finished image from an earlier session (a real file, so the gallery shows it).
    const QString image_path = fixture_.dir.filePath("earlier.png");
    QImage image(16, 16, QImage::Format_RGB888);
    image.fill(Qt::red);
    QVERIFY(image.save(image_path));
    QVERIFY(store.saveHistory({{image_path, sampleRequest(1), QDateTime::currentDateTime()}}));

    {
      auto window = fixture_.makeWindow();
      QCOMPARE(window->generateTab()->gallery()->count(), 1);
      // Two jobs queued behind a paused worker: they are on disk as soon as they are queued (a kill now keeps them).
      window->worker().setPaused(true);
      test::UiFixture::setSmallJob(*window->generateTab(), 3);
      window->generateTab()->generate();
      window->generateTab()->promptEditor()->setPlainText("second job");
      window->generateTab()->generate();
      const QList<ui::QueuedGeneration> on_disk = store.loadQueue();
      QCOMPARE(on_disk.size(), 2);
      QCOMPARE(QString::fromStdString(on_disk[1].request.prompt), QString("second job"));
      QCOMPARE(on_disk[0].request.steps, 3);
      QCOMPARE(on_disk[0].output_directory, fixture_.outputs);
      window->close();
    }  // quit with jobs queued

    auto window = fixture_.makeWindow();
    ui::GenerateTab& tab = *window->generateTab();
    QCOMPARE(tab.restoredJobCount(), 2);
    QCOMPARE(tab.gallery()->count(), 1);
    QCOMPARE(tab.gallery()->entries().first().path, image_path);
    QVERIFY(tab.gallery()->entries().first().parameters == sampleRequest(1));
    // A second restart before resuming still has them.
    QCOMPARE(store.loadQueue().size(), 2);
    // Resume runs them (the tiny model really generates); afterwards the queue file is empty and the gallery grew.
    tab.resumeRestored();
    QCOMPARE(tab.restoredJobCount(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(tab.gallery()->count(), 3, 120000);
    QTRY_VERIFY_WITH_TIMEOUT(!tab.isBusy(), 10000);
    QCOMPARE(store.loadQueue().size(), 0);
    QCOMPARE(store.loadHistory().size(), 3);
    QCOMPARE(QString::fromStdString(store.loadHistory().last().parameters.prompt), QString("second job"));
  }
};

QTEST_MAIN(UiPersistenceTest)
#include "test_ui_persistence.moc"
