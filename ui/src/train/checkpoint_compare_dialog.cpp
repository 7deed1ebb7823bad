// "Compare checkpoints…" (see checkpoint_compare_dialog.h).
#include "train/checkpoint_compare_dialog.h"

#include "gesso/error.h"
#include "gesso/pipeline/checkpoint_grid.h"
#include "gesso/training/trainer.h"
#include "util/qt_image.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace gesso::ui {

QStringList samplePromptsOf(const training::TrainConfig& run) {
  QStringList prompts;
  if (run.sample_prompts.empty()) return prompts;
  QFile file(QString::fromStdString(run.sample_prompts));
  if (!file.open(QIODevice::ReadOnly)) return prompts;
  for (const QString& line : QString::fromUtf8(file.readAll()).split('\n')) {
    const QString prompt = line.trimmed();
    if (!prompt.isEmpty()) prompts << prompt;
  }
  return prompts;
}

bool CheckpointCompareDialog::parseStrengths(const QString& text, std::vector<double>* strengths, QString* error) {
  strengths->clear();
  for (const QString& part : text.split(QRegularExpression("[,;\\s]+"), Qt::SkipEmptyParts)) {
    bool ok = false;
    const double value = part.toDouble(&ok);
    if (!ok || !std::isfinite(value)) {
      if (error) *error = tr("“%1” is not a LoRA strength (expected numbers such as 0.5, 1.0).").arg(part);
      return false;
    }
    strengths->push_back(value);
  }
  if (strengths->empty()) {
    if (error) *error = tr("Give at least one LoRA strength.");
    return false;
  }
  return true;
}

CheckpointCompareDialog::CheckpointCompareDialog(EngineWorker& worker, const training::TrainConfig& run,
                                                 const std::vector<CompareCheckpoint>& checkpoints,
                                                 const std::vector<int>& selected, const QString& fallback_prompt,
                                                 const QString& device, QWidget* parent)
    : QDialog(parent), worker_(worker), run_config_(run), device_(device), all_(checkpoints) {
  setWindowTitle(tr("Compare checkpoints"));
  const bool lora = run.method == "lora";

  checkpoints_ = new QListWidget(this);
  checkpoints_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  checkpoints_->setMaximumHeight(110);
  for (const auto& checkpoint : all_) {
    auto* item = new QListWidgetItem(tr("Step %1").arg(checkpoint.step), checkpoints_);
    item->setToolTip(checkpoint.folder);
  }
  for (int row = 0; row < checkpoints_->count(); ++row) {
    const bool chosen = selected.empty() || std::find(selected.begin(), selected.end(), row) != selected.end();
    checkpoints_->item(row)->setSelected(chosen);
  }
  strengths_ = new QLineEdit(lora ? QStringLiteral("0.5, 1.0") : QString(), this);
  strengths_->setEnabled(lora);
  strengths_->setToolTip(lora ? tr("LoRA strengths, separated by commas") : tr("A full fine-tune has no LoRA strength"));
  prompts_ = new QPlainTextEdit(this);
  QStringList prompts = samplePromptsOf(run);
  if (prompts.isEmpty() && !fallback_prompt.trimmed().isEmpty()) prompts << fallback_prompt.trimmed();
  prompts_->setPlainText(prompts.join('\n'));
  prompts_->setPlaceholderText(tr("One prompt per line"));
  prompts_->setMaximumHeight(90);
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 2147483647);
  seed_->setValue(static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(run.seed, 2147483647))));
  seed_->setToolTip(tr("Seed of the first prompt; prompt N uses seed + N − 1 in every column"));
  steps_ = new QSpinBox(this);
  steps_->setRange(1, 1000);
  steps_->setValue(std::max(1, run.sample_steps));

  auto* form = new QFormLayout;
  form->addRow(tr("Checkpoints"), checkpoints_);
  form->addRow(tr("LoRA strengths"), strengths_);
  form->addRow(tr("Prompts"), prompts_);
  form->addRow(tr("Seed"), seed_);
  form->addRow(tr("Sampling steps"), steps_);

  run_ = new QPushButton(tr("Compare"), this);
  run_->setDefault(true);
  cancel_ = new QPushButton(tr("Cancel"), this);
  save_ = new QPushButton(tr("Save PNG…"), this);
  progress_ = new QProgressBar(this);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  view_ = new QLabel(this);
  view_->setAlignment(Qt::AlignCenter);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(view_);
  scroll->setWidgetResizable(true);
  scroll->setMinimumSize(480, 320);

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(run_);
  buttons->addWidget(cancel_);
  buttons->addWidget(progress_, 1);
  buttons->addWidget(save_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(status_);
  layout->addWidget(scroll, 1);

  connect(run_, &QPushButton::clicked, this, &CheckpointCompareDialog::start);
  connect(cancel_, &QPushButton::clicked, this, &CheckpointCompareDialog::cancel);
  connect(save_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save grid"), QString(), tr("PNG images (*.png)"));
    if (!path.isEmpty() && !saveGrid(path)) status_->setText(tr("Cannot write %1.").arg(path));
  });
  connect(&worker_, &EngineWorker::jobProgress, this, [this](JobId id, int step, int total) {
    if (id != job_) return;
    progress_->setRange(0, std::max(1, total));
    progress_->setValue(step);
    status_->setText(step == 0 ? tr("Preparing the checkpoints…") : tr("Image %1 of %2").arg(step).arg(total));
  });
  connect(&worker_, &EngineWorker::jobFailed, this, [this](JobId id, const QString& message) {
    if (id != job_) return;
    setRunning(0);
    status_->setText(tr("The comparison failed: %1").arg(message));
    Q_EMIT failed(message);
  });
  connect(&worker_, &EngineWorker::jobCancelled, this, [this](JobId id) {
    if (id != job_) return;
    setRunning(0);
    status_->setText(tr("Cancelled."));
  });
  connect(&worker_, &EngineWorker::jobFinished, this, [this](JobId id) {
    if (id == job_) setRunning(0);
  });
  setRunning(0);
  resize(760, 640);
}

CheckpointCompareDialog::~CheckpointCompareDialog() {
  if (job_ != 0) worker_.cancel(job_);
}

void CheckpointCompareDialog::setRunning(JobId job) {
  job_ = job;
  run_->setEnabled(job == 0);
  cancel_->setEnabled(job != 0);
  save_->setEnabled(job == 0 && !grid_.isNull());
}

void CheckpointCompareDialog::start() {
  if (job_ != 0) return;
  QStringList folders;
  for (int row = 0; row < checkpoints_->count(); ++row) {
    if (checkpoints_->item(row)->isSelected()) folders << all_[static_cast<size_t>(row)].folder;
  }
  if (folders.isEmpty()) {
    status_->setText(tr("Select at least one checkpoint."));
    return;
  }
  pipeline::CheckpointGridRequest request;
  if (run_config_.method == "lora") {
    QString error;
    if (!parseStrengths(strengths_->text(), &request.strengths, &error)) {
      status_->setText(error);
      return;
    }
  }
  for (const QString& line : prompts_->toPlainText().split('\n')) {
    if (!line.trimmed().isEmpty()) request.prompts.push_back(line.trimmed().toStdString());
  }
  if (request.prompts.empty()) {
    status_->setText(tr("Give at least one prompt."));
    return;
  }
  request.base.tokenizer = run_config_.tokenizer;
  request.base.device = device_.isEmpty() ? run_config_.device : device_.toStdString();
  request.base.steps = steps_->value();
  request.base.width = run_config_.resolution;
  request.base.height = run_config_.resolution;
  request.base.clip_skip = run_config_.clip_skip;
  request.base.seed = seed_->value();
  const std::string device = request.base.device;

  grid_ = QImage();
  view_->clear();
  progress_->setRange(0, 0);
  status_->setText(tr("Preparing the checkpoints…"));
  QPointer<CheckpointCompareDialog> self(this);
  const JobId id = worker_.submit(
      "compare-checkpoints", tr("Compare %1 checkpoints").arg(folders.size()), [self, folders, request, device](JobContext& context) {
        pipeline::CheckpointGridRequest grid_request = request;
        for (const QString& folder : folders) {
          if (context.isCancelled()) fail(ErrorCode::Cancelled, "compare checkpoints cancelled");
          context.progress(0, 0);
          training::CheckpointExportOptions options;
          options.device = device;
          const training::CheckpointFile file = training::Trainer::exportCheckpoint(folder.toStdString(), options);
          pipeline::GridCheckpoint column;
          column.step = file.step;
          if (file.method == training::CheckpointMethod::Lora) {
            column.model = file.run.model;
            column.config = file.run.config;
            column.vae = file.run.vae;
            column.lora = file.path;
          } else {
            column.model = file.path;  // its YAML, when any, lies beside it
          }
          grid_request.checkpoints.push_back(column);
        }
        pipeline::CheckpointGridCallbacks callbacks;
        callbacks.cancel = &context.cancelToken();
        callbacks.load_model = [&context](const pipeline::ModelLoadOptions& options) { return context.models().get(options); };
        callbacks.on_image = [&context](int done, int total, const pipeline::CheckpointGridCell&) { context.progress(done, total); };
        const pipeline::CheckpointGridResult result = pipeline::checkpointGrid(grid_request, callbacks);
        const QImage grid = toQImage(result.grid);
        const int columns = result.columns, rows = result.rows;
        // Posted to the application object (it outlives every dialog); the dialog may be gone by then.
        context.post(QCoreApplication::instance(), [self, grid, columns, rows] {
          if (!self) return;
          self->grid_ = grid;
          self->columns_ = columns;
          self->rows_ = rows;
          self->view_->setPixmap(QPixmap::fromImage(grid));
          self->progress_->setRange(0, 1);
          self->progress_->setValue(1);
          self->status_->setText(tr("%1 × %2 images.").arg(columns).arg(rows));
          self->save_->setEnabled(true);
          Q_EMIT self->gridReady(grid);
        });
      });
  setRunning(id);
  // One worker runs one job at a time: during a training run the comparison waits for it.
  if (worker_.runningJob() != 0 && worker_.runningJob() != id) status_->setText(tr("Queued: it starts when the running job (e.g. training) ends."));
}

void CheckpointCompareDialog::cancel() {
  if (job_ == 0) return;
  worker_.cancel(job_);
  status_->setText(tr("Cancelling…"));
}

void CheckpointCompareDialog::reject() {
  if (job_ != 0) {
    cancel();
    return;
  }
  QDialog::reject();
}

bool CheckpointCompareDialog::saveGrid(const QString& path) {
  return !grid_.isNull() && grid_.save(path, "PNG");
}

}  // namespace gesso::ui
