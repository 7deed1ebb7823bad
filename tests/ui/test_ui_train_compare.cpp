// "Compare checkpoints…" of the Train tab (offscreen): a LoRA run of a few steps on a tiny random SD1 checkpoint
// leaves 2 checkpoints; the dialog compares them at 2 strengths × 2 prompts on the worker and shows a grid of
// 4 × 2 cells, while the event loop keeps answering a 1 ms timer; Esc cancels a running comparison; a full run's
// checkpoints are exported on the worker and compared one column each, and "Use in Generate" exports one first.
#include "gesso/image/image.h"
#include "gesso/image/image_io.h"
#include "golden.h"
#include "train/checkpoint_compare_dialog.h"
#include "train/train_tab.h"
#include "training_fixture.h"
#include "ui_fixture.h"
#include "worker/engine_worker.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace gesso;

class UiTrainCompareTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string tokenizer_;
  QString model_;
  QString data_;

  // Both runs: 2 steps at 64 px, batch 1, a checkpoint after each step, into dir_/RUN.
  training::TrainConfig twoStepConfig(const QString& run, const std::string& method, double lr, int64_t seed) const {
    training::TrainConfig config;
    config.model = model_.toStdString();
    config.data = data_.toStdString();
    config.output = dir_.filePath(run).toStdString();
    config.tokenizer = tokenizer_;
    config.cache_dir = dir_.filePath("cache").toStdString();
    config.method = method;
    config.steps = 2;
    config.save_every = 1;
    config.batch_size = 1;
    config.lr = lr;
    config.resolution = 64;
    config.seed = seed;
    return config;
  }

 private slots:
  void initTestCase() {
    tokenizer_ = test::sharedTokenizerPath();
    data_ = dir_.filePath("data");
    QDir().mkpath(data_);
#ifdef GESSO_WITH_IMAGE_IO
    test::writeTinyDataset(data_.toStdString(), test::TinyImages::Patterns, 2);
#endif
    if (tokenizer_.empty()) return;
    model_ = dir_.filePath("tiny_sd1.safetensors");
    test::writeTinyCheckpoint(model_.toStdString(), test::tinySd1Config());
  }

  void strengthsParse() {
    std::vector<double> strengths;
    QString error;
    QVERIFY(ui::CheckpointCompareDialog::parseStrengths("0.5, 1.0", &strengths, &error));
    QCOMPARE(strengths, std::vector<double>({0.5, 1.0}));
    QVERIFY(ui::CheckpointCompareDialog::parseStrengths(" 0 ;1.5  -0.25", &strengths, &error));
    QCOMPARE(strengths, std::vector<double>({0, 1.5, -0.25}));
    QVERIFY(!ui::CheckpointCompareDialog::parseStrengths("0.5, strong", &strengths, &error));
    QVERIFY(error.contains("strong"));
    QVERIFY(!ui::CheckpointCompareDialog::parseStrengths("  ", &strengths, &error));
  }

  void compareTwoCheckpointsTwoStrengthsTwoPrompts() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    training::TrainConfig config = twoStepConfig("run", "lora", 5e-3, 3);
    config.rank = 4;
    config.alpha = 4;

    ui::EngineWorker worker;
    ui::TrainTab tab(worker);
    tab.setConfig(config);
    tab.setPromptSource([] { return QString("a pattern from the generate tab"); });
    QSignalSpy finished(&tab, &ui::TrainTab::runFinished);
    QSignalSpy run_failed(&tab, &ui::TrainTab::runFailed);
    QTest::mouseClick(tab.startButton(), Qt::LeftButton);
    QVERIFY(!finished.isEmpty() || finished.wait(300000));
    QVERIFY2(run_failed.isEmpty(), run_failed.isEmpty() ? "" : qPrintable(run_failed.first().first().toString()));
    QCOMPARE(finished.first().first().toString(), QString("completed"));
    QCOMPARE(tab.checkpointTable()->rowCount(), 2);

    ui::CheckpointCompareDialog* dialog = tab.compareCheckpoints();
    QVERIFY(dialog);
    QCOMPARE(dialog->checkpointList()->count(), 2);
    QCOMPARE(dialog->checkpointList()->selectedItems().size(), 2);  // none selected in the table: all
    QCOMPARE(dialog->strengthsEdit()->text(), QString("0.5, 1.0"));
    QCOMPARE(dialog->promptsEdit()->toPlainText(), QString("a pattern from the generate tab"));  // no sample prompts
    QCOMPARE(dialog->seedBox()->value(), 3);
    dialog->strengthsEdit()->setText("0, 1");
    dialog->promptsEdit()->setPlainText("a pattern number 0\na pattern number 1");
    dialog->stepsBox()->setValue(2);

    QSignalSpy ready(dialog, &ui::CheckpointCompareDialog::gridReady);
    QSignalSpy failed(dialog, &ui::CheckpointCompareDialog::failed);
    test::StallMeter meter;
    meter.start();
    QTest::mouseClick(dialog->runButton(), Qt::LeftButton);
    QVERIFY(dialog->isRunning());
    QVERIFY(!dialog->runButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 300000);
    meter.stop();
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
    QCOMPARE(dialog->gridColumns(), 4);
    QCOMPARE(dialog->gridRows(), 2);
    QCOMPARE(dialog->grid().width(), 4 * 64);
    QVERIFY(dialog->grid().height() > 2 * 64);
    QCOMPARE(dialog->progressBar()->value(), dialog->progressBar()->maximum());
    qInfo("compare 2 checkpoints x 2 strengths x 2 prompts: grid %dx%d px, event loop ticked %d times, longest stall %.1f ms",
          dialog->grid().width(), dialog->grid().height(), meter.ticks(), meter.longestMs());
    QVERIFY(meter.ticks() > 10);
    QVERIFY(meter.longestMs() < 1000);
    QTRY_VERIFY(!dialog->isRunning());
    QVERIFY(dialog->saveButton()->isEnabled());
    const QString saved = dir_.filePath("grid.png");
    QVERIFY(dialog->saveGrid(saved));
    QCOMPARE(QImage(saved).size(), dialog->grid().size());

    // Only the selected checkpoint, and Esc while it runs: cancelled, the dialog stays open and usable.
    tab.checkpointTable()->selectRow(1);
    ui::CheckpointCompareDialog* second = tab.compareCheckpoints();
    QVERIFY(second);
    QCOMPARE(second->checkpointList()->selectedItems().size(), 1);
    QVERIFY(second->checkpointList()->item(1)->isSelected());
    second->stepsBox()->setValue(1000);  // long enough to be running when Esc comes
    QSignalSpy cancelled(&worker, &ui::EngineWorker::jobCancelled);
    QTest::mouseClick(second->runButton(), Qt::LeftButton);
    QVERIFY(second->isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(worker.runningJob() != 0, 60000);
    QTest::qWait(200);  // a few steps in
    QElapsedTimer clock;
    clock.start();
    QTest::keyClick(second, Qt::Key_Escape);
    QVERIFY(!cancelled.isEmpty() || cancelled.wait(120000));
    qInfo("Esc during a comparison: cancelled after %lld ms", static_cast<long long>(clock.elapsed()));
    QTRY_VERIFY(!second->isRunning());
    QVERIFY(second->isVisible());
    QVERIFY(second->runButton()->isEnabled());
  }

  void fullRunColumnsAreCheckpoints() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    // A full fine-tune: each checkpoint is exported on the worker (RUN_DIR/exports) and is one column; no strengths.
    const training::TrainConfig config = twoStepConfig("full-run", "full", 1e-3, 4);
    ui::EngineWorker worker;
    ui::TrainTab tab(worker);
    tab.setConfig(config);
    QSignalSpy finished(&tab, &ui::TrainTab::runFinished);
    tab.start();
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 300000);
    QCOMPARE(finished.first().first().toString(), QString("completed"));
    QCOMPARE(tab.checkpointTable()->rowCount(), 2);

    ui::CheckpointCompareDialog* dialog = tab.compareCheckpoints();
    QVERIFY(dialog);
    QVERIFY(!dialog->strengthsEdit()->isEnabled());
    dialog->promptsEdit()->setPlainText("a pattern number 0");
    dialog->stepsBox()->setValue(2);
    QSignalSpy ready(dialog, &ui::CheckpointCompareDialog::gridReady);
    QSignalSpy failed(dialog, &ui::CheckpointCompareDialog::failed);
    test::StallMeter meter;
    meter.start();
    dialog->start();
    QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 300000);
    meter.stop();
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
    QCOMPARE(dialog->gridColumns(), 2);
    QCOMPARE(dialog->gridRows(), 1);
    QCOMPARE(dialog->grid().width(), 2 * 64);
    QVERIFY(QFile::exists(dir_.filePath("full-run/exports/step-00000001.safetensors")));
    QVERIFY(QFile::exists(dir_.filePath("full-run/exports/step-00000002.safetensors")));
    qInfo("full run: 2 checkpoints exported and compared, longest event-loop stall %.1f ms", meter.longestMs());
    QVERIFY(meter.longestMs() < 1000);
  }

  void useInGenerateExportsAFullCheckpoint() {
    GESSO_REQUIRE_IMAGE_IO();
    const QString run = dir_.filePath("full-run");
    if (!QFileInfo::exists(run + "/checkpoints/step-00000001")) QSKIP("needs fullRunColumnsAreCheckpoints' run");
    // "Use in Generate" on a full run's checkpoint (trained tensors only): exported on the worker, then opened.
    test::UiFixture fixture;
    QVERIFY(fixture.prepare());
    auto window = fixture.makeWindow();
    auto* tab = window->findChild<ui::TrainTab*>();
    QVERIFY(tab);
    QString error;
    QVERIFY2(tab->openRun(run, &error), qPrintable(error));
    QCOMPARE(tab->checkpointTable()->rowCount(), 2);
    tab->checkpointTable()->selectRow(0);
    QPushButton* use = nullptr;
    for (auto* button : tab->findChildren<QPushButton*>()) {
      if (button->text() == ui::TrainTab::tr("Use in Generate")) use = button;
    }
    QVERIFY(use);
    QFile::remove(run + "/exports/step-00000001.safetensors");  // exported now, not reused
    QTest::mouseClick(use, Qt::LeftButton);
    const std::string expected = (run + "/exports/step-00000001.safetensors").toStdString();
    QTRY_COMPARE_WITH_TIMEOUT(window->generateTab()->currentRequest().model, expected, 120000);
    QVERIFY(QFile::exists(QString::fromStdString(expected)));

    // A LoRA run's checkpoint: its adapters copied into the LoRA folder under the run's and the step's name.
    QVERIFY2(tab->openRun(dir_.filePath("run"), &error), qPrintable(error));
    tab->checkpointTable()->selectRow(1);
    QTest::mouseClick(use, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(QString::fromStdString(window->generateTab()->currentRequest().prompt).contains("<lora:run-step-00000002:1>"), 120000);
    QVERIFY(QFile::exists(QDir(fixture.dir.filePath("lora")).filePath("run-step-00000002.safetensors")));
  }
};

QTEST_MAIN(UiTrainCompareTest)
#include "test_ui_train_compare.moc"
