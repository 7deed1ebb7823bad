// The Train tab: dataset (DatasetPanel), method and hyperparameters (basic / advanced, defaults per family), start,
// pause, resume and stop of a training::Trainer run on the EngineWorker, the loss / validation / LR chart, images/s
// and ETA, the checkpoints with their sample images and "compare checkpoints", and reopening a run folder from its
// metrics.jsonl.
#pragma once

#include "gesso/training/metrics.h"
#include "gesso/training/train_config.h"
#include "settings/app_settings.h"
#include "worker/engine_worker.h"

#include <QWidget>

#include <QPointer>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace gesso::ui {

class CheckpointCompareDialog;
class DatasetPanel;
class MainWindow;
class TrainChart;

class TrainTab : public QWidget {
  Q_OBJECT

 public:
  explicit TrainTab(EngineWorker& worker, QWidget* parent = nullptr);

  void applySettings(const AppSettingsValues& settings);
  // The run the widgets describe (dataset folder from the panel), and the reverse.
  training::TrainConfig currentConfig() const;
  void setConfig(const training::TrainConfig& config);
  // Sets every field to the defaults of `family` for the chosen method (defaultTrainConfig), keeping the model, data
  // and output.
  void applyFamilyDefaults(ModelFamily family);

  DatasetPanel* datasetPanel() const { return dataset_; }
  TrainChart* chart() const { return chart_; }
  QTableWidget* checkpointTable() const { return checkpoints_; }
  QListWidget* sampleList() const { return samples_; }
  QPushButton* startButton() const { return start_; }
  QPushButton* pauseButton() const { return pause_; }
  QPushButton* stopButton() const { return stop_; }
  QLabel* statsLabel() const { return stats_; }
  QPushButton* compareButton() const { return compare_; }
  // The prompt "Compare checkpoints…" offers when the run has no sample prompts (the Generate tab's).
  void setPromptSource(std::function<QString()> source) { prompt_source_ = std::move(source); }
  bool isRunning() const { return job_ != 0; }
  bool isPaused() const { return paused_ && paused_->load(); }
  int64_t lastStep() const { return last_step_; }

 public Q_SLOTS:
  void start();
  void togglePause();
  void stop();
  // Shows a run folder's plots, checkpoints and samples from its metrics.jsonl; false with `error` otherwise.
  bool openRun(const QString& run_dir, QString* error = nullptr);
  // Opens "Compare checkpoints…" for the selected checkpoint rows (all when none is selected); null without any
  // checkpoint on disk.
  CheckpointCompareDialog* compareCheckpoints();

 Q_SIGNALS:
  void runStarted();
  void runFinished(const QString& status, const QString& message);  // trainStatusName; message empty if completed
  void runFailed(const QString& message);  // it could not start
  void useInGenerate(const QString& model_or_lora_path);

 private:
  QWidget* buildSettings();
  QWidget* buildProgress();
  void setRunning(JobId job);
  void onStep(const training::StepMetrics& metrics);
  void addCheckpoint(const training::CheckpointMetrics& metrics, const QString& time_text);
  void addSamples(const training::SampleMetrics& metrics);
  void showSamplesFor(int checkpoint_row);

  EngineWorker& worker_;
  AppSettingsValues settings_;
  DatasetPanel* dataset_ = nullptr;
  TrainChart* chart_ = nullptr;

  QLineEdit* model_ = nullptr;
  QComboBox* family_ = nullptr;
  QComboBox* method_ = nullptr;
  QLineEdit* output_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QSpinBox* batch_ = nullptr;
  QDoubleSpinBox* lr_ = nullptr;
  QSpinBox* rank_ = nullptr;
  QDoubleSpinBox* alpha_ = nullptr;
  QSpinBox* resolution_ = nullptr;
  QGroupBox* advanced_ = nullptr;
  QSpinBox* grad_accum_ = nullptr;
  QComboBox* scheduler_ = nullptr;
  QSpinBox* warmup_ = nullptr;
  QDoubleSpinBox* ema_ = nullptr;
  QCheckBox* grad_checkpointing_ = nullptr;
  QComboBox* mixed_precision_ = nullptr;
  QDoubleSpinBox* min_snr_ = nullptr;
  QDoubleSpinBox* noise_offset_ = nullptr;
  QSpinBox* save_every_ = nullptr;
  QSpinBox* keep_ = nullptr;
  QSpinBox* sample_every_ = nullptr;
  QLineEdit* sample_prompts_ = nullptr;
  QDoubleSpinBox* validation_split_ = nullptr;
  QSpinBox* validate_every_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QCheckBox* flip_ = nullptr;
  QCheckBox* buckets_ = nullptr;
  QCheckBox* text_encoder_ = nullptr;
  QSpinBox* conv_rank_ = nullptr;

  QPushButton* start_ = nullptr;
  QPushButton* pause_ = nullptr;
  QPushButton* stop_ = nullptr;
  QPushButton* open_run_ = nullptr;
  QLabel* stats_ = nullptr;
  QLabel* message_ = nullptr;
  QTableWidget* checkpoints_ = nullptr;
  QListWidget* samples_ = nullptr;
  QPushButton* compare_ = nullptr;
  QPointer<CheckpointCompareDialog> compare_dialog_;
  std::function<QString()> prompt_source_;

  training::TrainConfig base_;  // fields without widgets (tokenizer, device, vae, config, cache_dir...)
  std::vector<training::SampleMetrics> sample_records_;
  std::shared_ptr<std::atomic<bool>> paused_;
  JobId job_ = 0;
  int64_t last_step_ = 0;
};

// The tab for the main window: its worker and settings (followed on change); "use in Generate" opens a trained
// checkpoint there (a LoRA is copied into the LoRA folder and named in the prompt).
QWidget* createTrainTab(MainWindow& window);

}  // namespace gesso::ui
