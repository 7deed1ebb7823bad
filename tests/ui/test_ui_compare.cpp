// The Compare tab on a tiny random SD1 checkpoint (offscreen): three cells run on the worker and give three images
// equal to the same requests generated alone, with step-tagged previews, times and labels; the scrubber shows every
// cell at step k; "open in Generate" carries the cell's settings; forks (same settings: the parent's image; another
// prompt: a different one); the labelled grid export.
#include "compare/compare_cell_view.h"
#include "compare/compare_tab.h"
#include "gesso/pipeline/bundled_model.h"
#include "gesso/pipeline/pipeline.h"
#include "pipeline_fixture.h"
#include "util/qt_image.h"
#include "worker/engine_worker.h"

#include <QComboBox>
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>

using namespace gesso;
using gesso::pipeline::GenerateRequest;

class UiCompareTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string tokenizer_;
  std::string model_path_;

  GenerateRequest baseRequest() const {
    GenerateRequest request;
    request.model = model_path_;
    request.tokenizer = tokenizer_;
    request.prompt = "a lighthouse at dusk";
    request.negative_prompt = "blurry";
    request.width = 64;
    request.height = 64;
    request.seed = 77;
    return request;
  }

 private slots:
  void initTestCase() {
    qRegisterMetaType<gesso::pipeline::GenerateRequest>();
    tokenizer_ = test::sharedTokenizerPath();
    if (tokenizer_.empty()) return;
    model_path_ = dir_.filePath("tiny_sd1.safetensors").toStdString();
    test::writeTinyCheckpoint(model_path_, test::tinySd1Config());
  }

  void threeCellsLiveScrubForkExport() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    ui::EngineWorker worker;
    ui::CompareTab tab(worker);
    tab.resize(1200, 800);
    tab.show();
    tab.setBaseRequest(baseRequest());
    tab.setSelection({"euler", "heun", "dpmpp_2m"}, {"karras"}, {3}, {5.0});
    QCOMPARE(int(tab.selectedCells().size()), 3);

    // The event loop stays free while the cells run: a timer keeps firing.
    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
    ticker.start(10);
    QSignalSpy finished(&tab, &ui::CompareTab::compareFinished);
    QSignalSpy failed(&tab, &ui::CompareTab::compareFailed);
    QTest::mouseClick(tab.runButton(), Qt::LeftButton);
    QVERIFY(tab.isRunning());
    QVERIFY2(finished.wait(120000), failed.isEmpty() ? "timed out" : qPrintable(failed.first().first().toString()));
    qInfo("timer ticks while comparing: %d", ticks);
    QVERIFY(ticks > 0);
    QCOMPARE(tab.cellCount(), 3);

    // Three images, each the same request generated alone (an independent run through the engine).
    auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(tab.cellRequest(0)));
    const QStringList samplers{"euler", "heun", "dpmpp_2m"};
    for (int i = 0; i < 3; ++i) {
      ui::CompareCellView* view = tab.cellView(i);
      QCOMPARE(view->finalImage().size(), QSize(64, 64));
      const GenerateRequest request = tab.cellRequest(i);
      QCOMPARE(QString::fromStdString(request.sampler), samplers[i]);
      const QImage alone = ui::toQImage(pipeline::generate(*model, request).images.at(0).image);
      QVERIFY2(alone == view->finalImage().convertToFormat(alone.format()), qPrintable(samplers[i]));
      // Step-tagged previews: one per step (1-based), latent-sized; the label names the settings and a time.
      QCOMPARE(view->previewSteps(), (QList<int>{1, 2, 3}));
      QCOMPARE(view->previewAt(2).size(), QSize(8, 8));
      QVERIFY(view->timeMs() > 0);
      QVERIFY(view->settingsLabel().contains(samplers[i]));
      qInfo("cell %d: %s, %.1f ms", i, qPrintable(view->settingsLabel()), view->timeMs());
    }
    QVERIFY(tab.cellView(0)->finalImage() != tab.cellView(2)->finalImage());

    // The scrubber: every cell at step 2 shows its step-2 preview; its end shows the final images.
    QCOMPARE(tab.scrubber()->maximum(), 3);
    tab.scrubber()->setValue(2);
    for (int i = 0; i < 3; ++i) {
      QCOMPARE(tab.cellView(i)->shownStep(), 2);
      QVERIFY(tab.cellView(i)->shownImage() == tab.cellView(i)->previewAt(2));
    }
    tab.scrubber()->setValue(3);
    QVERIFY(tab.cellView(1)->shownImage() == tab.cellView(1)->finalImage());

    // "Open in Generate" hands over the cell's request.
    QSignalSpy opened(&tab, &ui::CompareTab::openInGenerate);
    QPushButton* open = nullptr;
    for (QPushButton* button : tab.cellView(1)->findChildren<QPushButton*>()) {
      if (button->text() == ui::CompareCellView::tr("Open in Generate")) open = button;
    }
    QVERIFY(open && open->isEnabled());
    QTest::mouseClick(open, Qt::LeftButton);
    QCOMPARE(opened.count(), 1);
    const auto sent = opened.first().first().value<GenerateRequest>();
    QCOMPARE(QString::fromStdString(sent.sampler), QString("heun"));
    QCOMPARE(sent.seed, int64_t(77));

    // A fork of cell 0 (euler) at step 2 with its own settings continues on its path: the same image.
    QSignalSpy forked(&tab, &ui::CompareTab::forkFinished);
    tab.forkCell(0, 2, tab.cellRequest(0));
    QVERIFY(forked.wait(60000));
    QCOMPARE(tab.cellCount(), 4);
    QVERIFY(tab.cellView(3)->finalImage() == tab.cellView(0)->finalImage());
    // With another prompt it departs from the parent.
    GenerateRequest other = tab.cellRequest(0);
    other.prompt = "a submarine in a storm";
    tab.forkCell(0, 2, other);
    QVERIFY(forked.wait(60000));
    QCOMPARE(tab.cellCount(), 5);
    QVERIFY(tab.cellView(4)->finalImage() != tab.cellView(0)->finalImage());
    QVERIFY(tab.cellLabel(4).contains("fork"));
    QVERIFY(!tab.cellView(4)->previewSteps().isEmpty());

    // The grid export: every finished cell under a label strip.
    const QString grid_path = dir_.filePath("grid.png");
    QString error;
    QVERIFY2(tab.exportGrid(grid_path, &error), qPrintable(error));
    const QImage grid(grid_path);
    QCOMPARE(grid.width() % 64, 0);
    QCOMPARE(grid.width() * grid.height() > 5 * 64 * 64, true);
    QVERIFY(grid.height() > 64);
  }

  // The model picker offers the bundled model, as the Generate tab does, with no models folder set.
  void offersTheBundledModel() {
    const QString bundled = QString::fromStdString(pipeline::bundledModelPath());
    if (bundled.isEmpty()) QSKIP("no bundled model");
    ui::EngineWorker worker;
    ui::CompareTab tab(worker);
    tab.applySettings(ui::AppSettingsValues{});
    bool offered = false;
    for (QComboBox* box : tab.findChildren<QComboBox*>()) offered = offered || box->findData(bundled) >= 0;
    QVERIFY2(offered, qPrintable(bundled));
  }

  void badSelectionIsReported() {
    ui::EngineWorker worker;
    ui::CompareTab tab(worker);
    tab.setSelection({}, {"karras"}, {3}, {5.0});
    QString error;
    QVERIFY(tab.selectedCells(&error).empty());
    QVERIFY(!error.isEmpty());
    QSignalSpy failed(&tab, &ui::CompareTab::compareFailed);
    tab.run();
    QCOMPARE(failed.count(), 1);
    QVERIFY(!tab.isRunning());
  }
};

QTEST_MAIN(UiCompareTest)
#include "test_ui_compare.moc"
