// EngineWorker on its own: jobs run in order on one thread that is not the UI thread; generic jobs deliver their
// own results through JobContext::post; a queued job is removed by cancel, a running one stops at its token;
// failures carry the engine's message; models are loaded once and reused; destruction mid-job cancels and joins.
#include "ui_fixture.h"

#include "gesso/error.h"
#include "worker/engine_worker.h"

#include <QSignalSpy>
#include <QThread>
#include <QtTest>

#include <atomic>

using namespace gesso;

class UiWorkerTest : public QObject {
  Q_OBJECT

  test::UiFixture fixture_;

 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void genericJobsRunInOrderOnTheWorkerThread() {
    ui::EngineWorker worker;
    QList<int> order;
    QList<QThread*> threads;
    QSignalSpy finished(&worker, &ui::EngineWorker::jobFinished);
    QSignalSpy progress(&worker, &ui::EngineWorker::jobProgress);
    QList<ui::JobId> ids;
    for (int i = 0; i < 3; ++i) {
      ids << worker.submit("test", QString("job %1").arg(i), [this, i, &order, &threads](ui::JobContext& context) {
        context.progress(i, 3, "working");
        QThread* thread = QThread::currentThread();
        context.post(this, [i, thread, &order, &threads] {
          order << i;
          threads << thread;
        });
      });
    }
    QTRY_COMPARE(finished.count(), 3);
    QTRY_COMPARE(order.size(), 3);
    QCOMPARE(order, (QList<int>{0, 1, 2}));
    for (int i = 0; i < 3; ++i) QCOMPARE(finished[i][0].value<ui::JobId>(), ids[i]);
    QVERIFY(threads[0] != QThread::currentThread());
    QVERIFY(threads[0] == threads[1] && threads[1] == threads[2]);
    QCOMPARE(progress.count(), 3);
    QCOMPARE(progress[2][3].toString(), QString("working"));
  }

  void cancelRemovesQueuedAndStopsRunning() {
    ui::EngineWorker worker;
    std::atomic<bool> started{false};
    std::atomic<int> loops{0};
    QSignalSpy cancelled(&worker, &ui::EngineWorker::jobCancelled);
    QSignalSpy finished(&worker, &ui::EngineWorker::jobFinished);
    const ui::JobId running = worker.submit("test", "loop", [&](ui::JobContext& context) {
      started = true;
      while (!context.isCancelled()) {
        ++loops;
        QThread::msleep(1);
      }
      fail(ErrorCode::Cancelled, "stopped");
    });
    const ui::JobId queued = worker.submit("test", "never", [](ui::JobContext&) { QFAIL("a cancelled job ran"); });
    QTRY_VERIFY(started.load());
    QCOMPARE(worker.runningJob(), running);
    QCOMPARE(worker.queuedJobs(), QList<ui::JobId>{queued});
    worker.cancel(queued);
    QCOMPARE(cancelled.count(), 1);  // emitted at once for a queued job
    QCOMPARE(cancelled[0][0].value<ui::JobId>(), queued);
    worker.cancel(running);
    QTRY_COMPARE(cancelled.count(), 2);
    QCOMPARE(cancelled[1][0].value<ui::JobId>(), running);
    QCOMPARE(finished.count(), 0);
    QTRY_COMPARE(worker.runningJob(), ui::JobId(0));
  }

  void failuresCarryTheMessage() {
    ui::EngineWorker worker;
    QSignalSpy failed(&worker, &ui::EngineWorker::jobFailed);
    pipeline::GenerateRequest request;
    request.model = fixture_.dir.filePath("missing.safetensors").toStdString();
    request.width = 64;
    request.height = 64;
    const ui::JobId id = worker.submitGenerate(request, fixture_.dir.filePath("out"));
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(failed[0][0].value<ui::JobId>(), id);
    const QString message = failed[0][1].toString();
    qInfo("failure message: %s", qPrintable(message));
    QVERIFY(message.contains("missing.safetensors"));
    // The worker goes on with the next job.
    QSignalSpy finished(&worker, &ui::EngineWorker::jobFinished);
    worker.submit("test", "after", [](ui::JobContext&) {});
    QTRY_COMPARE(finished.count(), 1);
  }

  void modelsAreLoadedOnceAndReused() {
    if (!fixture_.prepare()) QSKIP("../shared/data/clip is absent");
    ui::EngineWorker worker;
    pipeline::ModelLoadOptions options;
    options.model = fixture_.model_path.toStdString();
    options.tokenizer = fixture_.tokenizer;
    std::shared_ptr<pipeline::LoadedModel> first;
    std::shared_ptr<pipeline::LoadedModel> second;
    QSignalSpy finished(&worker, &ui::EngineWorker::jobFinished);
    worker.submit("load", "first", [&](ui::JobContext& context) { first = context.models().get(options); });
    worker.submit("load", "second", [&](ui::JobContext& context) { second = context.models().get(options); });
    QTRY_COMPARE(finished.count(), 2);
    QVERIFY(first != nullptr);
    QVERIFY(first == second);
    first.reset();
    second.reset();
  }

  void destructionMidJobCancelsAndJoins() {
    std::atomic<bool> started{false};
    std::atomic<bool> saw_cancel{false};
    QElapsedTimer clock;
    {
      ui::EngineWorker worker;
      worker.submit("test", "loop", [&](ui::JobContext& context) {
        started = true;
        while (!context.isCancelled()) QThread::msleep(1);
        saw_cancel = true;
      });
      worker.submit("test", "never", [](ui::JobContext&) { QFAIL("ran after destruction began"); });
      QTRY_VERIFY(started.load());
      clock.start();
    }
    QVERIFY(saw_cancel.load());
    qInfo("worker destroyed %lld ms after the request", clock.elapsed());
    QVERIFY(clock.elapsed() < 2000);
  }
};

QTEST_MAIN(UiWorkerTest)
#include "test_ui_worker.moc"
