// The Models view: checkpoints, VAEs and LoRAs found in the settings' folders with their family, size and hash
// (read through the engine on a pool thread), load / unload of checkpoints into the worker's model cache, a clear
// message for files that are not models or are damaged, and conversion of PyTorch pickle checkpoints (read without
// running code) into a .safetensors file beside them, which is then what the app uses.
#pragma once

#include "models/model_folders.h"
#include "settings/app_settings.h"
#include "worker/engine_worker.h"

#include <QSet>
#include <QWidget>

#include <atomic>
#include <memory>

class QLabel;
class QPushButton;
class QTableWidget;

namespace gesso::ui {

class MainWindow;

class ModelsView : public QWidget {
  Q_OBJECT

 public:
  enum Column { NameColumn, KindColumn, FamilyColumn, SizeColumn, HashColumn, StatusColumn, ColumnCount };

  explicit ModelsView(EngineWorker& worker, QWidget* parent = nullptr);
  ~ModelsView() override;

  void applySettings(const AppSettingsValues& settings);  // rescans
  QTableWidget* table() const { return table_; }
  const QList<ModelFileInfo>& files() const { return files_; }
  int rowOf(const QString& path) const;  // -1 when absent
  bool isLoaded(const QString& path) const { return loaded_.contains(path); }

 public Q_SLOTS:
  void refresh();     // rescans the folders (headers only) and starts inspecting every model on the worker
  void loadRow(int row);
  void unloadRow(int row);
  // Converts a pickle row on the worker into its convertedPath() (refused when that file exists: nothing is
  // overwritten), rescans and selects the new file; with use_after, then opens it in Generate (modelChosen).
  void convertRow(int row, bool use_after = false);

 Q_SIGNALS:
  void inspectionFinished();  // every listed model has its family and hash (or its error)
  void modelLoaded(const QString& path);
  void modelUnloaded(const QString& path);
  void loadFailed(const QString& path, const QString& message);
  // "Use in Generate": a checkpoint, VAE or LoRA chosen by double-click (a pickle: its converted file).
  void modelChosen(const QString& path, gesso::ui::ModelKind kind);
  void converted(const QString& source, const QString& output);
  void convertFailed(const QString& source, const QString& message);

 private:
  void setStatus(int row, const QString& text, bool error);
  void showDetails(quint64 generation, int row, const ModelDetails& details, const QString& error);
  pipeline::ModelLoadOptions loadOptions(const QString& path) const;
  void updateButtons();
  void chooseRow(int row);  // double-click

  EngineWorker& worker_;
  AppSettingsValues settings_;
  QTableWidget* table_ = nullptr;
  QPushButton* refresh_ = nullptr;
  QPushButton* load_ = nullptr;
  QPushButton* unload_ = nullptr;
  QPushButton* convert_ = nullptr;
  QLabel* summary_ = nullptr;
  QList<ModelFileInfo> files_;
  QSet<QString> loaded_;
  QSet<QString> converting_;  // pickle files with a conversion queued or running
  quint64 generation_ = 0;  // scans: results of an older scan's inspection are dropped
  std::shared_ptr<std::atomic<bool>> inspection_stop_;  // set when the view goes or rescans
};

// The view for the main window: its worker and settings (followed on change); double-clicking a checkpoint opens
// it in the Generate tab.
QWidget* createModelsView(MainWindow& window);

}  // namespace gesso::ui
