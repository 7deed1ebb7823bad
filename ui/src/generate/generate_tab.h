// The Generate tab: prompt editors, model and sampler controls, img2img / inpaint, hires fix, live preview and
// progress, the queue (persisted) and the gallery / history (persisted). Jobs run on the EngineWorker.
#pragma once

#include "gesso/models/tokenizer.h"
#include "gesso/pipeline/generate_request.h"
#include "persistence/job_store.h"
#include "settings/app_settings.h"
#include "worker/engine_worker.h"

#include <QElapsedTimer>
#include <QMap>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace gesso::ui {

class GalleryWidget;
class ImageCanvas;
class PromptEditor;

class GenerateTab : public QWidget {
  Q_OBJECT

 public:
  GenerateTab(EngineWorker& worker, JobStore& store, QWidget* parent = nullptr);

  // Folders, device, precision, preview frequency: rescans the models and LoRA folders and reloads the tokenizer.
  void applySettings(const AppSettingsValues& settings);

  // The request the widgets describe (model, prompts, sampler, sizes, img2img, hires, device...). img2img inputs are
  // written as PNGs into the store's folder when set.
  pipeline::GenerateRequest currentRequest();
  // Fills the widgets from a request. An empty model keeps the current one (A1111 infotexts name no path).
  void setRequest(const pipeline::GenerateRequest& request);
  // Reads the parameters of a PNG (Gesso's JSON chunk or A1111's `parameters` text) into the widgets.
  // Returns false and sets `error` when the file has none.
  bool restoreFromPng(const QString& path, QString* error = nullptr);
  void sendToImg2img(const QString& path);

  GalleryWidget* gallery() const { return gallery_; }
  PromptEditor* promptEditor() const { return prompt_; }
  PromptEditor* negativeEditor() const { return negative_; }
  ImageCanvas* canvas() const { return canvas_; }
  QPushButton* generateButton() const { return generate_button_; }
  QPushButton* cancelButton() const { return cancel_button_; }
  QLabel* previewLabel() const { return preview_; }
  bool isBusy() const { return !pending_.isEmpty(); }
  int restoredJobCount() const { return restored_.size(); }
  // Selects a model path in the picker (adding it when absent).
  void selectModel(const QString& path);
  int lastPreviewStep() const { return last_preview_step_; }

 public Q_SLOTS:
  void generate();        // queues batch_count batches with the current parameters
  void cancel();          // cancels this tab's running and queued jobs
  void resumeRestored();  // submits the jobs restored from the last session
  void discardRestored();
  // Copies the selected gallery image to `path`; false when nothing is selected or the copy fails.
  bool saveSelectedImage(const QString& path);

 Q_SIGNALS:
  void busyChanged(bool busy);
  void imageAdded(const QString& path);
  void previewShown(int step);
  void statusMessage(const QString& message);

 private:
  QWidget* buildPromptPanel();
  QWidget* buildParameterPanel();
  QWidget* buildOutputPanel();
  void connectWorker();
  void rescanFolders();
  void loadTokenizer();
  void persistQueue();
  void refreshQueueView();
  void submit(const QueuedGeneration& job);
  void rollSeed();
  void applySizePreset(int index);

  EngineWorker& worker_;
  JobStore& store_;
  AppSettingsValues settings_;

  PromptEditor* prompt_ = nullptr;
  PromptEditor* negative_ = nullptr;
  QLabel* prompt_count_ = nullptr;
  QLabel* negative_count_ = nullptr;
  QComboBox* model_ = nullptr;
  QComboBox* vae_ = nullptr;
  QComboBox* lora_ = nullptr;
  QComboBox* sampler_ = nullptr;
  QComboBox* scheduler_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QDoubleSpinBox* cfg_ = nullptr;
  QDoubleSpinBox* cfg_rescale_ = nullptr;
  QLineEdit* seed_ = nullptr;
  QSpinBox* width_ = nullptr;
  QSpinBox* height_ = nullptr;
  QComboBox* size_preset_ = nullptr;
  QSpinBox* batch_size_ = nullptr;
  QSpinBox* batch_count_ = nullptr;
  QSpinBox* clip_skip_ = nullptr;
  QGroupBox* img2img_ = nullptr;
  ImageCanvas* canvas_ = nullptr;
  QDoubleSpinBox* strength_ = nullptr;
  QSpinBox* brush_ = nullptr;
  QGroupBox* hires_ = nullptr;
  QDoubleSpinBox* hires_scale_ = nullptr;
  QDoubleSpinBox* hires_strength_ = nullptr;
  QSpinBox* hires_steps_ = nullptr;
  QPushButton* generate_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* progress_text_ = nullptr;
  QLabel* preview_ = nullptr;
  QListWidget* queue_view_ = nullptr;
  QWidget* restored_bar_ = nullptr;
  QLabel* restored_text_ = nullptr;
  GalleryWidget* gallery_ = nullptr;

  std::shared_ptr<const models::ClipTokenizer> tokenizer_;
  QString tokenizer_source_;
  QMap<JobId, QueuedGeneration> pending_;  // queued or running, this tab's
  QList<QueuedGeneration> restored_;       // from the last session, waiting for "Resume"
  JobId running_ = 0;
  QElapsedTimer step_clock_;
  int step_clock_pass_ = -1;
  int last_preview_step_ = 0;
  int64_t last_seed_ = -1;
};

}  // namespace gesso::ui
