// The Models view (offscreen): a models folder and a LoRA folder holding a tiny SD1 checkpoint, a standalone VAE, a
// LoRA, a text file named .safetensors, a truncated checkpoint and a pickle .ckpt. Each is classified by content,
// checkpoints get their family and A1111 hash from the engine, the non-models and the damaged file get clear errors,
// and a checkpoint loads into and unloads from the worker's cache.
#include "gesso/io/safetensors.h"
#include "gesso/models/model_config.h"
#include "gesso/util/sha256.h"
#include "models/model_folders.h"
#include "models/models_view.h"
#include "pipeline_fixture.h"
#include "worker/engine_worker.h"

#include <ATen/ATen.h>
#include <QDir>
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
};

QTEST_MAIN(UiModelsTest)
#include "test_ui_models.moc"
