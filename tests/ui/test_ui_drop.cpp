// Dropping a PNG onto the window restores its parameters into the Generate tab: Gesso's own images (the `gesso`
// JSON chunk, exact) and AUTOMATIC1111's (`parameters` text only); a PNG without parameters changes nothing.
// Dropping an image on the img2img canvas loads it there instead.
#include "ui_fixture.h"

#include "generate/image_canvas.h"
#include "gesso/image/image_io.h"
#include "gesso/image/png_metadata.h"
#include "gesso/pipeline/output.h"

#include <QDoubleSpinBox>
#include <QDropEvent>
#include <QGroupBox>
#include <QMimeData>
#include <QtTest>

using namespace gesso;

namespace {

// What a drag and drop delivers: DragEnter (accepted or not), then Drop.
bool dropFile(QWidget* target, const QString& path) {
  QMimeData mime;
  mime.setUrls({QUrl::fromLocalFile(path)});
  const QPoint point = target->rect().center();
  QDragEnterEvent enter(point, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(target, &enter);
  if (!enter.isAccepted()) return false;
  QDropEvent drop(QPointF(point), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(target, &drop);
  return drop.isAccepted();
}

void writeTestPng(const std::string& path, const std::vector<image::PngTextChunk>& chunks) {
  image::Image img = image::makeImage(64, 48, 3);
  for (size_t i = 0; i < img.data.size(); ++i) img.data[i] = static_cast<uint8_t>(i * 13 % 251);
  image::writePng(path, img, chunks);
}

}  // namespace

class UiDropTest : public QObject {
  Q_OBJECT

  test::UiFixture fixture_;
  std::unique_ptr<ui::MainWindow> window_;

  ui::GenerateTab& tab() { return *window_->generateTab(); }
  QString text(const char* name) { return tab().findChild<QLineEdit*>(name)->text(); }
  int spin(const char* name) { return tab().findChild<QSpinBox*>(name)->value(); }
  double dspin(const char* name) { return tab().findChild<QDoubleSpinBox*>(name)->value(); }
  QString combo(const char* name) { return tab().findChild<QComboBox*>(name)->currentText(); }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    if (!fixture_.prepare()) QSKIP("../shared/data/clip is absent");
    window_ = fixture_.makeWindow();
    window_->show();
  }

  void ownPngRestoresEveryField() {
    pipeline::GenerateRequest request;
    request.model = fixture_.model_path.toStdString();
    request.prompt = "a (red:1.3) fox in [snow], BREAK forest";
    request.negative_prompt = "blurry, text";
    request.sampler = "dpmpp_2m";
    request.scheduler = "karras";
    request.steps = 33;
    request.cfg_scale = 5.5;
    request.cfg_rescale = 0.25;
    request.seed = 987654321;
    request.width = 448;
    request.height = 320;
    request.batch_size = 2;
    request.clip_skip = 2;
    request.hires_scale = 1.5;
    request.hires_strength = 0.4;
    request.hires_steps = 7;
    const std::string path = fixture_.dir.filePath("ours.png").toStdString();
    const auto info = pipeline::infotextParameters(request, request.seed, 0, "0123456789", "tiny_sd1");
    writeTestPng(path, image::generationTextChunks(info, pipeline::requestToJson(request)));

    QVERIFY(dropFile(window_.get(), QString::fromStdString(path)));
    QCOMPARE(tab().promptEditor()->toPlainText(), QString::fromStdString(request.prompt));
    QCOMPARE(tab().negativeEditor()->toPlainText(), QString::fromStdString(request.negative_prompt));
    QCOMPARE(combo("sampler"), QString("dpmpp_2m"));
    QCOMPARE(combo("scheduler"), QString("karras"));
    QCOMPARE(spin("steps"), 33);
    QCOMPARE(dspin("cfg"), 5.5);
    QCOMPARE(dspin("cfgRescale"), 0.25);
    QCOMPARE(text("seed"), QString("987654321"));
    QCOMPARE(spin("width"), 448);
    QCOMPARE(spin("height"), 320);
    QCOMPARE(spin("batchSize"), 2);
    QCOMPARE(spin("clipSkip"), 2);
    QVERIFY(tab().findChild<QGroupBox*>("hires")->isChecked());
    // What the widgets now describe is the request again (device, previews and folders come from the settings).
    pipeline::GenerateRequest back = tab().currentRequest();
    back.preview_every = request.preview_every;
    back.tokenizer = request.tokenizer;
    back.lora_dir = request.lora_dir;
    QCOMPARE(QString::fromStdString(pipeline::requestToJson(back)), QString::fromStdString(pipeline::requestToJson(request)));
  }

  void a1111PngRestoresItsFields() {
    const std::string infotext =
        "masterpiece, (lighthouse:1.2), sunset\n"
        "Negative prompt: lowres, bad anatomy\n"
        "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592653, Size: 576x832, "
        "Model hash: abcdef1234, Model: someModel, Clip skip: 2, Version: v1.10.1";
    const QString path = fixture_.dir.filePath("a1111.png");
    writeTestPng(path.toStdString(), {{image::kParametersKeyword, infotext}});
    const QString model_before = tab().findChild<QComboBox*>("modelPicker")->currentData().toString();

    QVERIFY(dropFile(window_.get(), path));
    QCOMPARE(tab().promptEditor()->toPlainText(), QString("masterpiece, (lighthouse:1.2), sunset"));
    QCOMPARE(tab().negativeEditor()->toPlainText(), QString("lowres, bad anatomy"));
    QCOMPARE(combo("sampler"), QString("dpmpp_2m"));
    QCOMPARE(combo("scheduler"), QString("karras"));
    QCOMPARE(spin("steps"), 28);
    QCOMPARE(dspin("cfg"), 6.5);
    QCOMPARE(text("seed"), QString("3141592653"));
    QCOMPARE(spin("width"), 576);
    QCOMPARE(spin("height"), 832);
    QCOMPARE(spin("clipSkip"), 2);
    // A1111 names no file: the current model stays selected.
    QCOMPARE(tab().findChild<QComboBox*>("modelPicker")->currentData().toString(), model_before);
  }

  void pngWithoutParametersChangesNothing() {
    const QString path = fixture_.dir.filePath("plain.png");
    writeTestPng(path.toStdString(), {});
    const QString prompt = tab().promptEditor()->toPlainText();
    QString error;
    QVERIFY(!window_->openPng(path, &error));
    qInfo("message shown: %s", qPrintable(error));
    QVERIFY(error.contains("plain.png"));
    QVERIFY(!dropFile(window_.get(), path));
    QCOMPARE(tab().promptEditor()->toPlainText(), prompt);
  }

  void droppingOnTheCanvasLoadsImg2img() {
    const QString path = fixture_.dir.filePath("init.png");
    writeTestPng(path.toStdString(), {});
    ui::ImageCanvas* canvas = tab().canvas();
    canvas->resize(200, 200);
    QVERIFY(dropFile(canvas, path));
    QVERIFY(canvas->hasImage());
    QCOMPARE(canvas->image().size(), QSize(64, 48));
    // A brush dab marks the mask; the request then names an init image and a mask with white where painted.
    canvas->setBrushRadius(8);
    canvas->paintAt(QPointF(20, 20));
    QVERIFY(canvas->hasMask());
    const pipeline::GenerateRequest request = tab().currentRequest();
    QVERIFY(!request.init_image.empty());
    QVERIFY(!request.mask.empty());
    const QImage mask = QImage(QString::fromStdString(request.mask)).convertToFormat(QImage::Format_Grayscale8);
    QCOMPARE(mask.size(), QSize(64, 48));
    QCOMPARE(qGray(mask.pixel(20, 20)), 255);
    QCOMPARE(qGray(mask.pixel(60, 44)), 0);
    QCOMPARE(QImage(QString::fromStdString(request.init_image)).convertToFormat(QImage::Format_RGB888),
             canvas->image());
  }
};

QTEST_MAIN(UiDropTest)
#include "test_ui_drop.moc"
