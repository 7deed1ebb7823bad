// The Train tab in the main window (createTrainTab): settings followed, "use in Generate" (a training checkpoint
// exported first).
#include "generate/generate_tab.h"
#include "gesso/training/trainer.h"
#include "main_window.h"
#include "models/model_folders.h"
#include "train/train_tab.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QMessageBox>
#include <QPointer>

namespace gesso::ui {

namespace {

// The model or LoRA file a checkpoint folder (or file) holds, classified by content; Invalid when there is none.
ModelFileInfo trainedFile(const QString& path) {
  if (QFileInfo(path).isFile()) return classifyModelFile(path);
  QDirIterator it(path, {"*.safetensors"}, QDir::Files);
  while (it.hasNext()) {
    const ModelFileInfo info = classifyModelFile(it.next());
    if (info.kind == ModelKind::Checkpoint || info.kind == ModelKind::Lora) return info;
  }
  return {};
}

// Opens a trained model (as the Generate tab's model) or LoRA (copied into the settings' LoRA folder as
// `lora_name`, where the Generate tab finds LoRAs by name, and named in the prompt) in the Generate tab.
void openTrained(MainWindow& window, QWidget* tab, const QString& path, ModelKind kind, const QString& lora_name) {
  if (!window.generateTab()) return;
  pipeline::GenerateRequest request = window.generateTab()->currentRequest();
  if (kind == ModelKind::Checkpoint) {
    request.model = path.toStdString();
    request.config.clear();  // its YAML, when any, lies beside it
  } else {
    const QString folder = window.settingsValues().lora_folder;
    const QString target = QDir(folder).filePath(lora_name + ".safetensors");
    QDir().mkpath(folder);
    if (!QFile::exists(target) && !QFile::copy(path, target)) {
      QMessageBox::warning(tab, TrainTab::tr("Use in Generate"), TrainTab::tr("Cannot copy %1 to %2.").arg(path, target));
      return;
    }
    request.prompt += " <lora:" + lora_name.toStdString() + ":1>";
  }
  window.openInGenerate(request);
}

// A checkpoint folder (RUN_DIR/checkpoints/step-N) is exported on the worker (Trainer::exportCheckpoint: a full
// run's model into RUN_DIR/exports; a LoRA run's adapters, EMA ones when the run keeps them), then opened.
void exportThenOpen(MainWindow& window, TrainTab* tab, const QString& folder) {
  const std::string device = AppSettings::deviceName(window.settingsValues().device).toStdString();
  MainWindow* target = &window;
  QPointer<TrainTab> guard(tab);
  QDir run(folder);
  run.cdUp();
  run.cdUp();
  const QString lora_name = run.dirName() + "-" + QFileInfo(folder).fileName();  // "RUN-step-00000100"
  const JobId id = window.worker().submit("export-checkpoint", TrainTab::tr("Export %1").arg(folder),
                                          [target, guard, folder, device, lora_name](JobContext& context) {
    training::CheckpointExportOptions options;
    options.device = device;
    const training::CheckpointFile file = training::Trainer::exportCheckpoint(folder.toStdString(), options);
    const QString path = QString::fromStdString(file.path);
    const ModelKind kind = file.method == training::CheckpointMethod::Full ? ModelKind::Checkpoint : ModelKind::Lora;
    context.post(target, [target, guard, path, kind, lora_name] { openTrained(*target, guard, path, kind, lora_name); });
  });
  QObject::connect(&window.worker(), &EngineWorker::jobFailed, tab, [guard, id, folder](JobId failed, const QString& message) {
    if (failed != id || !guard) return;
    QMessageBox::warning(guard, TrainTab::tr("Use in Generate"), TrainTab::tr("Cannot export %1: %2").arg(folder, message));
  });
}

}  // namespace

QWidget* createTrainTab(MainWindow& window) {
  auto* tab = new TrainTab(window.worker());
  tab->applySettings(window.settingsValues());
  QObject::connect(&window, &MainWindow::settingsChanged, tab, &TrainTab::applySettings);
  tab->setPromptSource([&window]() {
    return window.generateTab() ? QString::fromStdString(window.generateTab()->currentRequest().prompt) : QString();
  });
  QObject::connect(tab, &TrainTab::useInGenerate, &window, [&window, tab](const QString& path) {
    if (window.generateTab() && QFileInfo(path).isDir() && QFileInfo::exists(QDir(path).filePath("trained.safetensors"))) {
      exportThenOpen(window, tab, path);  // a training checkpoint
      return;
    }
    const ModelFileInfo file = trainedFile(path);
    if (!window.generateTab() || file.kind == ModelKind::Invalid) {
      QMessageBox::warning(tab, TrainTab::tr("Use in Generate"), TrainTab::tr("%1 holds no model or LoRA file.").arg(path));
      return;
    }
    const QFileInfo source(file.path);
    openTrained(window, tab, file.path, file.kind, source.dir().dirName() + "-" + source.completeBaseName());
  });
  return tab;
}

}  // namespace gesso::ui
