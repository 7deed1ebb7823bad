// The Train tab (offscreen) on a tiny random SD1 checkpoint and a folder of tiny images: the dataset scan (thumbnails,
// a skipped file, buckets, caption edit), per-family defaults, a full fine-tune of a few steps on the worker with a pause
// and resume in the middle, the chart holding exactly those steps, the checkpoints table, and the same plot from
// the run folder's metrics.jsonl when it is reopened.
#include "gesso/image/image.h"
#include "gesso/image/image_io.h"
#include "gesso/training/metrics.h"
#include "golden.h"
#include "pipeline_fixture.h"
#include "train/dataset_panel.h"
#include "train/train_chart.h"
#include "train/train_tab.h"
#include "training_fixture.h"
#include "worker/engine_worker.h"

#include <qcustomplot.h>

#include <QDir>
#include <QFile>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace gesso;

class UiTrainTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string tokenizer_;
  QString model_;
  QString data_;

  training::TrainConfig config(const QString& output, int64_t steps) const {
    training::TrainConfig config;
    config.model = model_.toStdString();
    config.data = data_.toStdString();
    config.output = output.toStdString();
    config.tokenizer = tokenizer_;
    config.cache_dir = dir_.filePath("cache").toStdString();
    config.method = "full";  // the LoRA method arrives with helper/lora
    config.steps = steps;
    config.batch_size = 1;
    config.lr = 1e-3;
    config.resolution = 64;
    config.buckets = false;
    config.save_every = 0;
    config.sample_every = 0;
    config.seed = 3;
    return config;
  }

 private slots:
  void initTestCase() {
    tokenizer_ = test::sharedTokenizerPath();
    data_ = dir_.filePath("data");
    QDir().mkpath(data_);
#ifdef GESSO_WITH_IMAGE_IO
    test::writeTinyDataset(data_.toStdString(), test::TinyImages::Patterns, 3);
#endif
    QFile bad(QDir(data_).filePath("broken.png"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("not a png at all");
    if (tokenizer_.empty()) return;
    model_ = dir_.filePath("tiny_sd1.safetensors");
    test::writeTinyCheckpoint(model_.toStdString(), test::tinySd1Config());
  }

  void familyDefaults() {
    ui::EngineWorker worker;
    ui::TrainTab tab(worker);
    tab.applyFamilyDefaults(ModelFamily::SDXL);
    QCOMPARE(tab.currentConfig().resolution, 1024);
    QCOMPARE(tab.currentConfig().rank, 32);
    tab.applyFamilyDefaults(ModelFamily::SD1);
    QCOMPARE(tab.currentConfig().resolution, 512);
    // Every default set is a valid configuration once model, data and output are named.
    training::TrainConfig config = tab.currentConfig();
    config.model = "m.safetensors";
    config.data = "data";
    config.output = "out";
    config.validate();
  }

  void datasetScanAndCaptionEdit() {
    GESSO_REQUIRE_IMAGE_IO();
    ui::EngineWorker worker;
    ui::DatasetPanel panel(worker);
    panel.setFolder(data_);
    panel.setResolution(64, false);
    QSignalSpy scanned(&panel, &ui::DatasetPanel::scanned);
    panel.rescan();
    QVERIFY(scanned.wait(60000));
    QCOMPARE(panel.thumbnails()->count(), 3);
    QVERIFY(!panel.thumbnails()->item(0)->icon().isNull());
    QCOMPARE(panel.skippedTable()->rowCount(), 1);
    QVERIFY(panel.skippedTable()->item(0, 0)->text().contains("broken.png"));
    QCOMPARE(panel.bucketTable()->rowCount(), 1);
    QCOMPARE(panel.bucketTable()->item(0, 1)->text(), QString("3"));
    panel.thumbnails()->setCurrentRow(1);
    QCOMPARE(panel.captionEdit()->toPlainText(), QString("a pattern number 1"));
    panel.captionEdit()->setPlainText("a pattern, edited");
    QString error;
    QVERIFY2(panel.saveCaption(&error), qPrintable(error));
    QFile saved(QDir(data_).filePath("img1.txt"));
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(saved.readAll()), QString("a pattern, edited"));
  }

  void runPlotsItsStepsAndReopens() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const QString output = dir_.filePath("run");
    const int64_t steps = 4;
    ui::EngineWorker worker;
    ui::TrainTab tab(worker);
    tab.setConfig(config(output, steps));
    QSignalSpy finished(&tab, &ui::TrainTab::runFinished);
    QSignalSpy failed(&tab, &ui::TrainTab::runFailed);
    QTest::mouseClick(tab.startButton(), Qt::LeftButton);
    QVERIFY(tab.isRunning());

    // Pause after the first step: no step is reported while paused (after the one in flight); then resume.
    QTRY_VERIFY_WITH_TIMEOUT(tab.lastStep() >= 1 || !failed.isEmpty() || !finished.isEmpty(), 240000);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
    if (finished.isEmpty()) {
      tab.togglePause();
      QVERIFY(tab.isPaused());
      QCOMPARE(tab.pauseButton()->text(), ui::TrainTab::tr("Resume"));
      QTest::qWait(3000);  // the step in flight ends
      const int64_t held = tab.lastStep();
      QTest::qWait(1500);
      QCOMPARE(tab.lastStep(), held);
      qInfo("paused at step %lld of %lld", static_cast<long long>(held), static_cast<long long>(steps));
      tab.togglePause();
      QVERIFY(!tab.isPaused());
    }
    QVERIFY(finished.wait(300000) || !finished.isEmpty());
    QCOMPARE(finished.first().first().toString(), QString("completed"));
    QCOMPARE(tab.lastStep(), steps);

    // The chart: exactly the run's steps, in order, raw and smoothed loss and the LR.
    tab.chart()->redrawNow();
    QCOMPARE(tab.chart()->lossPointCount(), int(steps));
    QCOMPARE(tab.chart()->smoothedPointCount(), int(steps));
    QCOMPARE(tab.chart()->learningRatePointCount(), int(steps));
    const std::vector<training::MetricsRecord> records = training::readMetrics(output.toStdString());
    int index = 0;
    for (const auto& record : records) {
      if (record.type != "step") continue;
      auto point = tab.chart()->plot()->graph(0)->data()->at(index++);
      QCOMPARE(point->key, double(record.step.step));
      QCOMPARE(point->value, record.step.loss);
    }
    QCOMPARE(index, int(steps));
    QVERIFY(tab.checkpointTable()->rowCount() >= 1);
    QVERIFY(!tab.statsLabel()->text().isEmpty());
    const double middle = tab.chart()->plot()->xAxis->coordToPixel(2.0);
    QVERIFY(tab.chart()->hoverText(middle).contains("2"));

    // Reopening the run folder shows the same points and checkpoints.
    ui::TrainTab reopened(worker);
    QString error;
    QVERIFY2(reopened.openRun(output, &error), qPrintable(error));
    QCOMPARE(reopened.chart()->lossPointCount(), int(steps));
    QCOMPARE(reopened.checkpointTable()->rowCount(), tab.checkpointTable()->rowCount());
    QVERIFY(!reopened.openRun(dir_.filePath("no-such-run"), &error));
    qInfo("missing run: %s", qPrintable(error));
  }
};

QTEST_MAIN(UiTrainTest)
#include "test_ui_train.moc"
