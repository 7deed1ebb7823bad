// "Compare checkpoints…" of the Train tab: chosen checkpoints × LoRA strengths × prompts at fixed seeds, exported
// and generated on the EngineWorker (Trainer::exportCheckpoint, pipeline::checkpointGrid), the labelled grid shown
// with "Save PNG…". Esc cancels a running comparison (a second Esc closes).
#pragma once

#include "gesso/training/train_config.h"
#include "worker/engine_worker.h"

#include <QDialog>
#include <QImage>
#include <QStringList>

#include <vector>

class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace gesso::ui {

struct CompareCheckpoint {
  qint64 step = 0;
  QString folder;  // RUN_DIR/checkpoints/step-N
};

class CheckpointCompareDialog : public QDialog {
  Q_OBJECT

 public:
  // `run`: the run's settings (method, sample prompts, seed, size, base model); `selected`: indices into
  // `checkpoints` chosen at the start (empty: all); `fallback_prompt` when the run has no sample prompts.
  CheckpointCompareDialog(EngineWorker& worker, const training::TrainConfig& run, const std::vector<CompareCheckpoint>& checkpoints,
                          const std::vector<int>& selected, const QString& fallback_prompt, const QString& device,
                          QWidget* parent = nullptr);
  ~CheckpointCompareDialog() override;  // a running comparison is cancelled

  QListWidget* checkpointList() const { return checkpoints_; }
  QLineEdit* strengthsEdit() const { return strengths_; }
  QPlainTextEdit* promptsEdit() const { return prompts_; }
  QSpinBox* seedBox() const { return seed_; }
  QSpinBox* stepsBox() const { return steps_; }
  QPushButton* runButton() const { return run_; }
  QPushButton* saveButton() const { return save_; }
  QProgressBar* progressBar() const { return progress_; }
  bool isRunning() const { return job_ != 0; }
  const QImage& grid() const { return grid_; }
  int gridColumns() const { return columns_; }
  int gridRows() const { return rows_; }
  // Parsed from the strengths field ("0.5, 1.0"); false with `error` for anything else.
  static bool parseStrengths(const QString& text, std::vector<double>* strengths, QString* error);

 public Q_SLOTS:
  void start();
  void cancel();
  bool saveGrid(const QString& path);
  void reject() override;  // Esc: cancels a running comparison, else closes

 Q_SIGNALS:
  void gridReady(const QImage& grid);
  void failed(const QString& message);

 private:
  void setRunning(JobId job);

  EngineWorker& worker_;
  training::TrainConfig run_config_;
  QString device_;
  std::vector<CompareCheckpoint> all_;
  QListWidget* checkpoints_ = nullptr;
  QLineEdit* strengths_ = nullptr;
  QPlainTextEdit* prompts_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QPushButton* run_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QPushButton* save_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* view_ = nullptr;
  QImage grid_;
  int columns_ = 0;
  int rows_ = 0;
  JobId job_ = 0;
};

// The run's sample prompts (one per line of its sample_prompts file), empty when it has none or it cannot be read.
QStringList samplePromptsOf(const training::TrainConfig& run);

}  // namespace gesso::ui
