// The Models view (offscreen): a models folder and a LoRA folder holding a tiny SD1 checkpoint, a standalone VAE, a
// LoRA, a text file named .safetensors, a truncated checkpoint and a pickle .ckpt. Each is classified by content,
// checkpoints get their family and A1111 hash from the engine, the non-models and the damaged file get clear errors,
// and a checkpoint loads into and unloads from the worker's cache. A pickle .ckpt converts (on the worker, without
// running its code) into the .safetensors beside it, which the view then lists and opens; a malicious one is refused.
#include "gesso/io/safetensors.h"
#include "gesso/models/model_config.h"
#include "gesso/util/sha256.h"
#include "models/model_folders.h"
#include "models/models_view.h"
#include "pipeline_fixture.h"
#include "worker/engine_worker.h"

#include <ATen/ATen.h>
#include <QDir>
#include <QPushButton>
#include <QFile>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace gesso;

namespace {

void writeBytes(const QString& path, const QByteArray& bytes) {
  QFile file(path);
  QVERIFY(file.open(QIODevice::WriteOnly));
  file.write(bytes);
}

}  // namespace

class UiModelsTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString models_;
  QString loras_;

  QString cell(const ui::ModelsView& view, const QString& name, int column) {
    const int row = view.rowOf(QDir(models_).filePath(name)) >= 0 ? view.rowOf(QDir(models_).filePath(name))
                                                                    : view.rowOf(QDir(loras_).filePath(name));
    if (row < 0) return "<missing row " + name + ">";
    auto* item = view.table()->item(row, column);
    return item ? item->text() : QString();
  }

 private slots:
  void initTestCase() {
    models_ = dir_.filePath("models");
    loras_ = dir_.filePath("loras");
    QDir().mkpath(models_ + "/VAE");
    QDir().mkpath(loras_);
    test::writeTinyCheckpoint((models_ + "/tiny_sd1.safetensors").toStdString(), test::tinySd1Config());
    // A standalone VAE: the VAE's tensors without the checkpoint prefix.
    models::AutoencoderKL vae(test::tinyVaeConfig(), at::TensorOptions().dtype(at::kFloat));
    std::vector<std::pair<std::string, at::Tensor>> vae_tensors;
    for (const auto& item : vae->named_parameters()) vae_tensors.emplace_back(item.key(), item.value().detach().clone());
    io::writeSafetensors((models_ + "/VAE/tiny.vae.safetensors").toStdString(), vae_tensors);
    // A kohya LoRA with SDXL's second text encoder.
    io::writeSafetensors((loras_ + "/style.safetensors").toStdString(),
                         {{"lora_unet_down_blocks_0_attn1_to_q.lora_down.weight", at::zeros({4, 32})},
                          {"lora_unet_down_blocks_0_attn1_to_q.lora_up.weight", at::zeros({32, 4})},
                          {"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", at::zeros({4, 64})}});
    writeBytes(models_ + "/notes.safetensors", "these are my notes, not a model");
    writeBytes(models_ + "/old.ckpt", QByteArray("PK\x03\x04", 4) + QByteArray(100, 'x'));
    // A checkpoint cut in half (a broken download): its header is intact, its data is not.
    QFile whole(models_ + "/tiny_sd1.safetensors");
    QVERIFY(whole.open(QIODevice::ReadOnly));
    const QByteArray bytes = whole.readAll();
    writeBytes(models_ + "/broken.safetensors", bytes.left(bytes.size() / 2));
  }

  void classificationByContent() {
    QCOMPARE(ui::classifyModelFile(models_ + "/tiny_sd1.safetensors").kind, ui::ModelKind::Checkpoint);
    QCOMPARE(ui::classifyModelFile(models_ + "/VAE/tiny.vae.safetensors").kind, ui::ModelKind::Vae);
    QCOMPARE(ui::classifyModelFile(loras_ + "/style.safetensors").kind, ui::ModelKind::Lora);
    const ui::ModelFileInfo notes = ui::classifyModelFile(models_ + "/notes.safetensors");
    QCOMPARE(notes.kind, ui::ModelKind::Invalid);
    qInfo("notes.safetensors: %s", qPrintable(notes.error));
    QVERIFY(notes.error.contains("notes.safetensors"));
    const ui::ModelFileInfo pickle = ui::classifyModelFile(models_ + "/old.ckpt");
    QCOMPARE(pickle.kind, ui::ModelKind::Invalid);
    QVERIFY(pickle.error.contains("gesso-cli convert"));
    QVERIFY(pickle.convertible);
    QCOMPARE(pickle.convertedPath(), models_ + "/old.safetensors");
    QCOMPARE(int(ui::scanModelFolders(models_, loras_).size()), 6);
    QCOMPARE(int(ui::scanModelFolders(models_, models_).size()), 5);  // listed once
  }

  void viewListsInspectsLoadsAndUnloads() {
    const std::string tokenizer = test::sharedTokenizerPath();
    ui::EngineWorker worker;
    ui::ModelsView view(worker);
    QSignalSpy inspected(&view, &ui::ModelsView::inspectionFinished);
    ui::AppSettingsValues settings;
    settings.models_folder = models_;
    settings.lora_folder = loras_;
    settings.tokenizer_folder = QString::fromStdString(tokenizer);
    view.applySettings(settings);
    QCOMPARE(view.table()->rowCount(), 6);
    QVERIFY(inspected.wait(60000));

    using V = ui::ModelsView;
    QCOMPARE(cell(view, "tiny_sd1.safetensors", V::KindColumn), ui::modelKindName(ui::ModelKind::Checkpoint));
    QCOMPARE(cell(view, "tiny_sd1.safetensors", V::FamilyColumn), QString::fromUtf8(familyName(ModelFamily::SD1)));
    const std::string hash = util::sha256FileHex((models_ + "/tiny_sd1.safetensors").toStdString()).substr(0, 10);
    QCOMPARE(cell(view, "tiny_sd1.safetensors", V::HashColumn), QString::fromStdString(hash));
    QVERIFY(!cell(view, "tiny_sd1.safetensors", V::SizeColumn).isEmpty());
    QCOMPARE(cell(view, "VAE/tiny.vae.safetensors", V::KindColumn), ui::modelKindName(ui::ModelKind::Vae));
    QCOMPARE(cell(view, "style.safetensors", V::KindColumn), ui::modelKindName(ui::ModelKind::Lora));
    QCOMPARE(cell(view, "style.safetensors", V::FamilyColumn), QString("SDXL"));
    QCOMPARE(cell(view, "notes.safetensors", V::KindColumn), ui::modelKindName(ui::ModelKind::Invalid));
    QVERIFY(!cell(view, "notes.safetensors", V::StatusColumn).isEmpty());
    QVERIFY(cell(view, "old.ckpt", V::StatusColumn).contains("convert"));
    QCOMPARE(cell(view, "old.ckpt", V::KindColumn), ui::ModelsView::tr("PyTorch pickle"));
    // The damaged file: listed with the engine's reason, at the scan or when its details are read.
    const QString broken = cell(view, "broken.safetensors", V::StatusColumn);
    qInfo("broken.safetensors: %s", qPrintable(broken));
    QVERIFY(broken != ui::ModelsView::tr("OK") && !broken.isEmpty());
    QVERIFY(broken.contains("broken.safetensors"));

    if (tokenizer.empty()) QSKIP("../shared/data/clip is absent: load / unload not tried");
    const int row = view.rowOf(models_ + "/tiny_sd1.safetensors");
    QSignalSpy loaded(&view, &ui::ModelsView::modelLoaded);
    view.loadRow(row);
    QVERIFY(loaded.wait(60000));
    QVERIFY(view.isLoaded(view.files()[row].path));
    QCOMPARE(view.table()->item(row, V::StatusColumn)->text(), ui::ModelsView::tr("Loaded"));
    QSignalSpy unloaded(&view, &ui::ModelsView::modelUnloaded);
    view.unloadRow(row);
    QVERIFY(unloaded.wait(60000));
    QVERIFY(!view.isLoaded(view.files()[row].path));
    // Loading the damaged checkpoint fails with a message naming it.
    QSignalSpy failed(&view, &ui::ModelsView::loadFailed);
    const int broken_row = view.rowOf(models_ + "/broken.safetensors");
    if (view.files()[broken_row].kind == ui::ModelKind::Checkpoint) {
      view.loadRow(broken_row);
      QVERIFY(failed.wait(60000));
      QVERIFY(failed.first().at(1).toString().contains("broken.safetensors"));
    }
  }

  void pickleConvertsThenIsUsed() {
    QTemporaryDir folder;
    const QString fixtures = QStringLiteral(GESSO_TEST_FIXTURES_DIR "/ckpt/");
    QVERIFY(QFile::copy(fixtures + "benign.ckpt", folder.filePath("benign.ckpt")));
    QVERIFY(QFile::copy(fixtures + "os_system.ckpt", folder.filePath("os_system.ckpt")));
    const QString marker = folder.filePath("pwned");  // what os_system.ckpt's payload would create
    qputenv("GESSO_PWNED_MARKER", marker.toUtf8());
    ui::EngineWorker worker;
    ui::ModelsView view(worker);
    ui::AppSettingsValues settings;
    settings.models_folder = folder.path();
    view.applySettings(settings);
    QCOMPARE(view.table()->rowCount(), 2);
    const QString benign = QFileInfo(folder.filePath("benign.ckpt")).canonicalFilePath();
    const QString output = QFileInfo(benign).absolutePath() + "/benign.safetensors";

    // Double-click converts, then opens the new file.
    QSignalSpy converted(&view, &ui::ModelsView::converted);
    QSignalSpy chosen(&view, &ui::ModelsView::modelChosen);
    QSignalSpy failed(&view, &ui::ModelsView::convertFailed);
    Q_EMIT view.table()->cellDoubleClicked(view.rowOf(benign), 0);
    QVERIFY(converted.wait(60000));
    QCOMPARE(converted.first().at(1).toString(), output);
    QCOMPARE(chosen.size(), 1);
    QCOMPARE(chosen.first().at(0).toString(), output);
    QCOMPARE(chosen.first().at(1).value<ui::ModelKind>(), ui::ModelKind::Checkpoint);
    QCOMPARE(view.table()->rowCount(), 3);
    QCOMPARE(view.table()->currentRow(), view.rowOf(output));
    auto written = io::SafetensorsFile::open(output.toStdString());
    auto twin = io::SafetensorsFile::open((fixtures + "benign.safetensors").toStdString());
    QCOMPARE(written->tensors().size(), twin->tensors().size());
    for (const auto& info : twin->tensors()) QVERIFY2(at::equal(written->tensor(info.name), twin->tensor(info.name)), info.name.c_str());
    QVERIFY(view.table()->item(view.rowOf(benign), ui::ModelsView::StatusColumn)->text().contains("benign.safetensors"));

    // Converted once: double-click uses that file; Convert again overwrites nothing.
    const QByteArray hash = QByteArray::fromStdString(util::sha256FileHex(output.toStdString()));
    Q_EMIT view.table()->cellDoubleClicked(view.rowOf(benign), 0);
    QCOMPARE(chosen.size(), 2);
    QCOMPARE(chosen.last().at(0).toString(), output);
    view.convertRow(view.rowOf(benign));
    QCOMPARE(failed.size(), 1);
    QVERIFY(failed.first().at(1).toString().contains("already exists"));
    QCOMPARE(QByteArray::fromStdString(util::sha256FileHex(output.toStdString())), hash);

    // The malicious pickle: refused with the forbidden global named, nothing run, nothing written.
    const QString evil = QFileInfo(folder.filePath("os_system.ckpt")).canonicalFilePath();
    QPushButton* convert = nullptr;
    for (auto* button : view.findChildren<QPushButton*>()) {
      if (button->text() == ui::ModelsView::tr("Convert")) convert = button;
    }
    QVERIFY(convert);
    view.table()->selectRow(view.rowOf(output));
    QVERIFY(!convert->isEnabled());
    view.table()->selectRow(view.rowOf(evil));
    QVERIFY(convert->isEnabled());
    convert->click();
    QVERIFY(failed.wait(60000));
    qInfo("os_system.ckpt: %s", qPrintable(failed.last().at(1).toString()));
    QVERIFY(failed.last().at(1).toString().contains("os.system"));
    QVERIFY(view.table()->item(view.rowOf(evil), ui::ModelsView::StatusColumn)->text().contains("os.system"));
    QVERIFY(!QFileInfo::exists(marker));
    QCOMPARE(QDir(folder.path()).entryList(QDir::Files | QDir::Hidden).size(), 3);  // no partial file left
    QCOMPARE(converted.size(), 1);
  }
};

QTEST_MAIN(UiModelsTest)
#include "test_ui_models.moc"
