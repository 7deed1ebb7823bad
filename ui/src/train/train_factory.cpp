// The Train tab in the main window (createTrainTab).
#include "generate/generate_tab.h"
#include "main_window.h"
#include "models/model_folders.h"
#include "train/train_tab.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QMessageBox>

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
