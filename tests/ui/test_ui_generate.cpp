// The Generate tab end to end on a tiny random SD1 checkpoint: clicking Generate puts an image in the gallery with
// its parameters and step-tagged previews arrive; Esc cancels within one step; the event loop keeps answering a
// 1 ms timer while the worker runs (the longest stall is printed); Ctrl+S's save writes the selected image.
#include "ui_fixture.h"

#include "gesso/pipeline/output.h"
#include "worker/engine_worker.h"

#include <QLabel>
#include <QMutex>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

using namespace gesso;

class UiGenerateTest : public QObject {
  Q_OBJECT

  test::UiFixture fixture_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    if (!fixture_.prepare(1)) QSKIP("../shared/data/clip is absent");
  }

  void clickingGenerateFillsTheGallery() {
    auto window = fixture_.makeWindow();
    window->show();
    window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window.get()));
    ui::GenerateTab& tab = *window->generateTab();
    QCOMPARE(tab.findChild<QComboBox*>("modelPicker")->currentData().toString(), fixture_.model_path);
    test::UiFixture::setSmallJob(tab, 4);
    QSignalSpy previews(&window->worker(), &ui::EngineWorker::jobPreview);
    QSignalSpy steps(&window->worker(), &ui::EngineWorker::jobStep);
    QSignalSpy finished(&window->worker(), &ui::EngineWorker::imageFinished);
    test::StallMeter stalls;
    QElapsedTimer job_clock;
    stalls.start();
    job_clock.start();
    QTest::mouseClick(tab.generateButton(), Qt::LeftButton);
    QVERIFY(tab.isBusy());
    QTRY_COMPARE_WITH_TIMEOUT(tab.gallery()->count(), 1, 120000);
    const double job_ms = job_clock.nsecsElapsed() / 1e6;
    stalls.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!tab.isBusy(), 10000);
    qInfo("longest event-loop stall while generating (model load + 4 steps, 64x64, tiny SD1): %.2f ms "
          "(job %.0f ms, %d ticks of a 1 ms timer)",
          stalls.longestMs(), job_ms, stalls.ticks());
    // Model code on the UI thread would stall it for the whole load and sampling; the worker leaves it free.
    QVERIFY2(stalls.longestMs() < job_ms / 2, "the UI thread stalled for half the job");
    QVERIFY(stalls.ticks() > 10);

    // Previews: one per step (preview_every = 1), tagged 1..4, in order.
    QCOMPARE(steps.count(), 4);
    QCOMPARE(previews.count(), 4);
    for (int i = 0; i < previews.count(); ++i) {
      QCOMPARE(previews[i][1].toInt(), i + 1);
      const QImage preview = previews[i][2].value<QImage>();
      QCOMPARE(preview.size(), QSize(8, 8));  // latent-sized
    }
    QCOMPARE(tab.lastPreviewStep(), 4);

    // The gallery entry: the file exists, its parameters are the request with the seed and this image's values.
    const ui::HistoryEntry entry = tab.gallery()->entries().first();  // a copy: the list grows below
    QVERIFY(QFile::exists(entry.path));
    QVERIFY(entry.path.startsWith(fixture_.outputs));
    QCOMPARE(entry.parameters.seed, int64_t(1234));
    QCOMPARE(entry.parameters.steps, 4);
    QCOMPARE(QString::fromStdString(entry.parameters.prompt), tab.promptEditor()->toPlainText());
    QCOMPARE(QImage(entry.path).size(), QSize(64, 64));
    // The PNG carries the same request (what dropping it restores).
    QVERIFY(pipeline::requestFromPng(entry.path.toStdString()) == entry.parameters);
    QCOMPARE(finished.count(), 1);
    QVERIFY(!tab.previewLabel()->pixmap().isNull());

    // Ctrl+S's action saves the selected image.
    const QString copy = fixture_.dir.filePath("saved.png");
    QVERIFY(tab.saveSelectedImage(copy));
    QCOMPARE(QImage(copy), QImage(entry.path));

    // Ctrl+Enter (the window's shortcut) queues a second run with the same parameters: same seed, same image.
    QTest::keyClick(window.get(), Qt::Key_Return, Qt::ControlModifier);
    QTRY_COMPARE_WITH_TIMEOUT(tab.gallery()->count(), 2, 120000);
    QCOMPARE(QImage(tab.gallery()->entries().last().path), QImage(entry.path));
  }

  void escapeCancelsWithinOneStep() {
    auto window = fixture_.makeWindow();
    window->show();
    window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window.get()));
    ui::GenerateTab& tab = *window->generateTab();
    test::UiFixture::setSmallJob(tab, 400, 128);

    // Steps as the worker emits them, with the time they were emitted (direct connection: worker thread).
    QMutex mutex;
    QElapsedTimer clock;
    clock.start();
    QList<qint64> step_times_ns;
    connect(&window->worker(), &ui::EngineWorker::jobStep, this,
            [&](ui::JobId, int, int, int, int, int) {
              QMutexLocker lock(&mutex);
              step_times_ns.append(clock.nsecsElapsed());
            },
            Qt::DirectConnection);
    QSignalSpy cancelled(&window->worker(), &ui::EngineWorker::jobCancelled);
    QSignalSpy steps(&window->worker(), &ui::EngineWorker::jobStep);
    test::StallMeter stalls;
    stalls.start();
    QTest::mouseClick(tab.generateButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 3, 120000);
    qint64 cancel_ns = 0;
    {
      QMutexLocker lock(&mutex);
      cancel_ns = clock.nsecsElapsed();
    }
    QTest::keyClick(window.get(), Qt::Key_Escape);
    QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 1, 30000);
    stalls.stop();
    int after = 0;
    {
      QMutexLocker lock(&mutex);
      for (qint64 t : step_times_ns) after += t > cancel_ns ? 1 : 0;
    }
    const double run_ms = (clock.nsecsElapsed() - step_times_ns.first()) / 1e6;
    qInfo("steps run before Esc: %d, steps finished after Esc: %d (at most the one in progress); "
          "longest event-loop stall: %.2f ms over %.0f ms of sampling",
          int(step_times_ns.size()) - after, after, stalls.longestMs(), run_ms);
    QVERIFY(after <= 1);
    QVERIFY(step_times_ns.size() < 400);
    QTRY_VERIFY_WITH_TIMEOUT(!tab.isBusy(), 5000);
    QCOMPARE(tab.gallery()->count(), 2);  // nothing added by the cancelled job (the first test's two images stay)
    QVERIFY(!tab.cancelButton()->isEnabled());
  }

  void quittingWhileAJobRunsCancelsIt() {
    auto window = fixture_.makeWindow();
    window->show();
    window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(window.get()));
    ui::GenerateTab& tab = *window->generateTab();
    test::UiFixture::setSmallJob(tab, 400, 128);
    QSignalSpy steps(&window->worker(), &ui::EngineWorker::jobStep);
    QTest::mouseClick(tab.generateButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 1, 120000);
    QElapsedTimer clock;
    clock.start();
    window->close();
    window.reset();  // cancels and joins the worker
    qInfo("window closed and worker joined %lld ms after quitting mid-job", clock.elapsed());
    QVERIFY(clock.elapsed() < 10000);
  }
};

QTEST_MAIN(UiGenerateTest)
#include "test_ui_generate.moc"
