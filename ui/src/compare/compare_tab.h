// The Compare tab: one prompt and seed through sampler × scheduler × steps × CFG cells, run step-interleaved on the
// EngineWorker with every cell's preview updating live (labelled with its settings and time); a step scrubber that
// shows every cell at step k; "open in Generate", forks from any cell at the shown step, and a labelled grid export.
#pragma once

#include "gesso/pipeline/compare.h"
#include "gesso/pipeline/fork.h"
#include "settings/app_settings.h"
#include "worker/engine_worker.h"

#include <QString>
#include <QWidget>

#include <functional>
#include <memory>
#include <vector>

class QComboBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QSlider;
class QSpinBox;

namespace gesso::ui {

class CompareCellView;
class MainWindow;

class CompareTab : public QWidget {
  Q_OBJECT

 public:
  explicit CompareTab(EngineWorker& worker, QWidget* parent = nullptr);

  // Models folder (the model picker), tokenizer, device, precision.
  void applySettings(const AppSettingsValues& settings);
  // Model, prompts, seed and size from a request (e.g. the Generate tab's); sampler settings come from the lists.
  void setBaseRequest(const pipeline::GenerateRequest& request);
  pipeline::GenerateRequest baseRequest() const;
  // Shows a "From Generate" button that takes model, prompts, seed and size from `provider` (the Generate tab).
  void setBaseRequestProvider(std::function<pipeline::GenerateRequest()> provider);
  // Checks these names in the lists and sets the steps and CFG fields ("20, 30").
  void setSelection(const QStringList& samplers, const QStringList& schedulers, const QList<int>& steps,
                    const QList<double>& cfg_scales);
  // The cells the widgets describe; empty with `error` set when a list is empty or a number is malformed.
  std::vector<pipeline::CompareCell> selectedCells(QString* error = nullptr) const;

  int cellCount() const { return static_cast<int>(views_.size()); }
  CompareCellView* cellView(int index) const { return views_.at(static_cast<size_t>(index)); }
  QString cellLabel(int index) const;
  pipeline::GenerateRequest cellRequest(int index) const;
  QSlider* scrubber() const { return scrubber_; }
  QPushButton* runButton() const { return run_button_; }
  bool isRunning() const { return job_ != 0; }

 public Q_SLOTS:
  void run();
  void cancel();
  // Every cell shows its image at `step` (1-based); the scrubber's last position shows the final images.
  void scrubTo(int step);
  // Writes the grid of the final images, each under a label with its settings and time (pipeline::compareGrid).
  bool exportGrid(const QString& path, QString* error = nullptr);
  // Continues cell `index` from its latent at `step` (1-based: the step whose preview is shown) with `request`;
  // the fork becomes a new cell. Needs a finished run.
  void forkCell(int index, int step, const pipeline::GenerateRequest& request);

 Q_SIGNALS:
  void openInGenerate(const gesso::pipeline::GenerateRequest& request);
  void compareFinished();
  void forkFinished(int cell_index);
  void compareFailed(const QString& message);
  void statusMessage(const QString& message);

 private:
  struct Cell {
    pipeline::CompareCell settings;
    pipeline::GenerateRequest request;
    std::vector<pipeline::StepLatent> latents;  // per step, after the run (for forks)
    QString label;
    int fork_of = -1;  // parent cell, or -1
  };

  QWidget* buildControls();
  void clearCells();
  CompareCellView* addCellView(const Cell& cell, int row, int column);
  void askFork(int index, int step);
  void updateScrubberRange();
  void setRunning(JobId job);
  pipeline::ModelLoadOptions loadOptions() const;

  EngineWorker& worker_;
  AppSettingsValues settings_;
  QComboBox* model_ = nullptr;
  QPlainTextEdit* prompt_ = nullptr;
  QPlainTextEdit* negative_ = nullptr;
  QLineEdit* seed_ = nullptr;
  QSpinBox* width_ = nullptr;
  QSpinBox* height_ = nullptr;
  QListWidget* samplers_ = nullptr;
  QListWidget* schedulers_ = nullptr;
  QLineEdit* steps_ = nullptr;
  QLineEdit* cfg_ = nullptr;
  QPushButton* run_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QPushButton* export_button_ = nullptr;
  QPushButton* from_generate_ = nullptr;
  QSlider* scrubber_ = nullptr;
  QLabel* scrub_label_ = nullptr;
  QLabel* status_ = nullptr;
  QGridLayout* grid_ = nullptr;

  pipeline::GenerateRequest base_;  // hidden fields (tokenizer, device...) of the last setBaseRequest
  pipeline::GenerateRequest run_base_;  // the running / last run's base, seed resolved
  std::vector<Cell> cells_;
  std::vector<CompareCellView*> views_;
  int columns_ = 1;
  int rows_ = 1;
  int forks_ = 0;
  JobId job_ = 0;
  std::function<pipeline::GenerateRequest()> provider_;
};

// The tab for the main window: its worker and settings (followed on change), "open in Generate" wired to it.
QWidget* createCompareTab(MainWindow& window);

}  // namespace gesso::ui
