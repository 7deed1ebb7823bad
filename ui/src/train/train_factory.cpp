// The Train tab in the main window (createTrainTab): settings followed, "use in Generate" (a full run's checkpoint
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

// A full run's checkpoint holds only its trained tensors: it is exported on the worker (RUN_DIR/exports, see
// Trainer::exportCheckpoint), then opened in the Generate tab.
void exportThenOpen(MainWindow& window, TrainTab* tab, const QString& folder) {
  const std::string device = AppSettings::deviceName(window.settingsValues().device).toStdString();
  MainWindow* target = &window;
  const JobId id = window.worker().submit("export-checkpoint", TrainTab::tr("Export %1").arg(folder),
                                          [target, folder, device](JobContext& context) {
    training::CheckpointExportOptions options;
    options.device = device;
    const training::CheckpointFile file = training::Trainer::exportCheckpoint(folder.toStdString(), options);
    const std::string model = file.path;
    context.post(target, [target, model] {
      if (!target->generateTab()) return;
      pipeline::GenerateRequest request = target->generateTab()->currentRequest();
      request.model = model;
      request.config.clear();  // its YAML, when any, lies beside it
      target->openInGenerate(request);
    });
  });
  QPointer<TrainTab> guard(tab);
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
    const ModelFileInfo file = trainedFile(path);
    if (window.generateTab() && file.kind == ModelKind::Invalid && QFileInfo(path).isDir() &&
        QFileInfo::exists(QDir(path).filePath("trained.safetensors"))) {
      exportThenOpen(window, tab, path);
      return;
    }
    if (!window.generateTab() || file.kind == ModelKind::Invalid) {
      QMessageBox::warning(tab, TrainTab::tr("Use in Generate"), TrainTab::tr("%1 holds no model or LoRA file.").arg(path));
      return;
    }
    pipeline::GenerateRequest request = window.generateTab()->currentRequest();
    if (file.kind == ModelKind::Checkpoint) {
      request.model = file.path.toStdString();
    } else {
      // The Generate tab finds LoRAs in the settings' LoRA folder by name: copy it there under the run's name.
      const QString folder = window.settingsValues().lora_folder;
      const QFileInfo source(file.path);
      const QString name = source.dir().dirName() + "-" + source.completeBaseName();
      const QString target = QDir(folder).filePath(name + ".safetensors");
      QDir().mkpath(folder);
      if (!QFile::exists(target) && !QFile::copy(file.path, target)) {
        QMessageBox::warning(tab, TrainTab::tr("Use in Generate"), TrainTab::tr("Cannot copy %1 to %2.").arg(file.path, target));
        return;
      }
      request.prompt += " <lora:" + name.toStdString() + ":1>";
    }
    window.openInGenerate(request);
  });
  return tab;
}

}  // namespace gesso::ui
