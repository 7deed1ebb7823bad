// The Train tab (see train_tab.h).
#include "train/train_tab.h"

#include "gesso/error.h"
#include "gesso/training/trainer.h"
#include "train/checkpoint_compare_dialog.h"
#include "train/dataset_panel.h"
#include "train/train_chart.h"
#include "train/train_defaults.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QIcon>
#include <QImageReader>
#include <QPixmap>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

namespace gesso::ui {

namespace {

QSpinBox* intBox(int low, int high, QWidget* parent) {
  auto* box = new QSpinBox(parent);
  box->setRange(low, high);
  return box;
}

QDoubleSpinBox* doubleBox(double low, double high, int decimals, double step, QWidget* parent) {
  auto* box = new QDoubleSpinBox(parent);
  box->setRange(low, high);
  box->setDecimals(decimals);
  box->setSingleStep(step);
  return box;
}

QString durationText(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
  const qint64 s = static_cast<qint64>(seconds + 0.5);
  return QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'));
}

}  // namespace

TrainTab::TrainTab(EngineWorker& worker, QWidget* parent) : QWidget(parent), worker_(worker) {
  dataset_ = new DatasetPanel(worker_, this);
  auto* settings_scroll = new QScrollArea(this);
  settings_scroll->setWidget(buildSettings());
  settings_scroll->setWidgetResizable(true);
  auto* splitter = new QSplitter(this);
  splitter->addWidget(dataset_);
  splitter->addWidget(settings_scroll);
  splitter->addWidget(buildProgress());
  splitter->setStretchFactor(2, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(splitter);
  applyFamilyDefaults(ModelFamily::SD1);

  connect(&worker_, &EngineWorker::jobFailed, this, [this](JobId id, const QString& message) {
    if (id != job_) return;
    setRunning(0);
    message_->setText(tr("Training could not run: %1").arg(message));
    Q_EMIT runFailed(message);
  });
  connect(&worker_, &EngineWorker::jobCancelled, this, [this](JobId id) {
    if (id != job_) return;  // a queued run removed before it started
    setRunning(0);
    message_->setText(tr("Stopped before it started."));
    Q_EMIT runFinished("cancelled", {});
  });
}

QWidget* TrainTab::buildSettings() {
  auto* panel = new QWidget(this);
  model_ = new QLineEdit(panel);
  model_->setPlaceholderText(tr("Checkpoint to train from"));
  family_ = new QComboBox(panel);
  family_->addItem("SD 1.x", static_cast<int>(ModelFamily::SD1));
  family_->addItem("SD 2.x", static_cast<int>(ModelFamily::SD2));
  family_->addItem("SDXL", static_cast<int>(ModelFamily::SDXL));
  family_->setToolTip(tr("Sets the defaults below for this model family"));
  method_ = new QComboBox(panel);
  method_->addItem(tr("LoRA"), "lora");
  method_->addItem(tr("Full fine-tune"), "full");
  output_ = new QLineEdit(panel);
  output_->setPlaceholderText(tr("Run folder (checkpoints, samples, metrics.jsonl)"));
  steps_ = intBox(1, 10000000, panel);
  batch_ = intBox(1, 256, panel);
  lr_ = doubleBox(0, 1, 8, 1e-5, panel);
  rank_ = intBox(1, 1024, panel);
  alpha_ = doubleBox(0.001, 1024, 3, 1, panel);
  resolution_ = intBox(64, 4096, panel);
  resolution_->setSingleStep(64);

  auto* basic = new QGroupBox(tr("Basic"), panel);
  auto* basic_form = new QFormLayout(basic);
  basic_form->addRow(tr("Model"), model_);
  basic_form->addRow(tr("Family"), family_);
  basic_form->addRow(tr("Method"), method_);
  basic_form->addRow(tr("Output"), output_);
  basic_form->addRow(tr("Steps"), steps_);
  basic_form->addRow(tr("Batch size"), batch_);
  basic_form->addRow(tr("Learning rate"), lr_);
  basic_form->addRow(tr("LoRA rank"), rank_);
  basic_form->addRow(tr("LoRA alpha"), alpha_);
  basic_form->addRow(tr("Resolution"), resolution_);

  grad_accum_ = intBox(1, 1024, panel);
  scheduler_ = new QComboBox(panel);
  scheduler_->addItems({"constant", "constant_with_warmup", "linear", "cosine"});
  warmup_ = intBox(0, 1000000, panel);
  ema_ = doubleBox(0, 0.99999, 5, 0.0001, panel);
  ema_->setToolTip(tr("EMA decay; 0 turns it off"));
  grad_checkpointing_ = new QCheckBox(tr("Gradient checkpointing"), panel);
  mixed_precision_ = new QComboBox(panel);
  mixed_precision_->addItems({"no", "fp16", "bf16"});
  min_snr_ = doubleBox(0, 100, 2, 1, panel);
  min_snr_->setToolTip(tr("γ of min-SNR-γ loss weighting; 0 turns it off"));
  noise_offset_ = doubleBox(0, 1, 3, 0.01, panel);
  save_every_ = intBox(0, 10000000, panel);
  keep_ = intBox(1, 1000, panel);
  sample_every_ = intBox(0, 10000000, panel);
  sample_prompts_ = new QLineEdit(panel);
  sample_prompts_->setPlaceholderText(tr("File with one prompt per line"));
  validation_split_ = doubleBox(0, 0.9, 2, 0.05, panel);
  validate_every_ = intBox(0, 10000000, panel);
  seed_ = intBox(0, 2147483647, panel);
  flip_ = new QCheckBox(tr("Random horizontal flips"), panel);
  buckets_ = new QCheckBox(tr("Aspect-ratio buckets"), panel);
  text_encoder_ = new QCheckBox(tr("Train the text encoder too"), panel);
  conv_rank_ = intBox(0, 1024, panel);
  conv_rank_->setToolTip(tr("LoCon rank of the 3×3 convolutions; 0 turns it off"));

  advanced_ = new QGroupBox(tr("Advanced"), panel);
  advanced_->setCheckable(true);
  advanced_->setChecked(false);
  auto* advanced_body = new QWidget(advanced_);
  auto* advanced_form = new QFormLayout(advanced_body);
  advanced_form->addRow(tr("Gradient accumulation"), grad_accum_);
  advanced_form->addRow(tr("LR schedule"), scheduler_);
  advanced_form->addRow(tr("Warm-up steps"), warmup_);
  advanced_form->addRow(tr("EMA decay"), ema_);
  advanced_form->addRow(grad_checkpointing_);
  advanced_form->addRow(tr("Mixed precision"), mixed_precision_);
  advanced_form->addRow(tr("Min-SNR γ"), min_snr_);
  advanced_form->addRow(tr("Noise offset"), noise_offset_);
  advanced_form->addRow(tr("Save every (steps)"), save_every_);
  advanced_form->addRow(tr("Checkpoints kept"), keep_);
  advanced_form->addRow(tr("Sample every (steps)"), sample_every_);
  advanced_form->addRow(tr("Sample prompts"), sample_prompts_);
  advanced_form->addRow(tr("Validation split"), validation_split_);
  advanced_form->addRow(tr("Validate every (steps)"), validate_every_);
  advanced_form->addRow(tr("Seed"), seed_);
  advanced_form->addRow(flip_);
  advanced_form->addRow(buckets_);
  advanced_form->addRow(text_encoder_);
  advanced_form->addRow(tr("LoCon rank"), conv_rank_);
  auto* advanced_layout = new QVBoxLayout(advanced_);
  advanced_layout->addWidget(advanced_body);
  advanced_body->setVisible(false);
  connect(advanced_, &QGroupBox::toggled, advanced_body, &QWidget::setVisible);

  auto* layout = new QVBoxLayout(panel);
  layout->addWidget(basic);
  layout->addWidget(advanced_);
  layout->addStretch(1);

  connect(family_, qOverload<int>(&QComboBox::activated), this,
          [this] { applyFamilyDefaults(static_cast<ModelFamily>(family_->currentData().toInt())); });
  connect(method_, qOverload<int>(&QComboBox::activated), this,
          [this] { applyFamilyDefaults(static_cast<ModelFamily>(family_->currentData().toInt())); });
  auto lora_only = [this] {
    const bool lora = method_->currentData().toString() == "lora";
    rank_->setEnabled(lora);
    alpha_->setEnabled(lora);
    conv_rank_->setEnabled(lora);
  };
  connect(method_, qOverload<int>(&QComboBox::currentIndexChanged), this, lora_only);
  return panel;
}

QWidget* TrainTab::buildProgress() {
  auto* panel = new QWidget(this);
  start_ = new QPushButton(tr("Start"), panel);
  pause_ = new QPushButton(tr("Pause"), panel);
  stop_ = new QPushButton(tr("Stop"), panel);
  stop_->setToolTip(tr("Save a checkpoint and stop"));
  open_run_ = new QPushButton(tr("Open run…"), panel);
  stats_ = new QLabel(panel);
  message_ = new QLabel(panel);
  message_->setWordWrap(true);
  chart_ = new TrainChart(panel);
  checkpoints_ = new QTableWidget(0, 4, panel);
  checkpoints_->setHorizontalHeaderLabels({tr("Step"), tr("Time"), tr("Validation loss"), tr("Folder")});
  checkpoints_->horizontalHeader()->setSectionResizeMode(3, QHeaderView::Stretch);
  checkpoints_->setSelectionBehavior(QAbstractItemView::SelectRows);
  checkpoints_->setSelectionMode(QAbstractItemView::ExtendedSelection);  // the rows "Compare checkpoints…" starts with
  checkpoints_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  checkpoints_->setMaximumHeight(140);
  samples_ = new QListWidget(panel);
  samples_->setViewMode(QListView::IconMode);
  samples_->setIconSize(QSize(128, 128));
  samples_->setMaximumHeight(170);
  auto* use = new QPushButton(tr("Use in Generate"), panel);
  compare_ = new QPushButton(tr("Compare checkpoints…"), panel);
  compare_->setToolTip(tr("A grid of the checkpoints × LoRA strengths × prompts at fixed seeds"));

  auto* buttons = new QHBoxLayout;
  for (QPushButton* button : {start_, pause_, stop_, open_run_}) buttons->addWidget(button);
  buttons->addStretch(1);
  auto* layout = new QVBoxLayout(panel);
  layout->addLayout(buttons);
  layout->addWidget(stats_);
  layout->addWidget(message_);
  layout->addWidget(chart_, 1);
  layout->addWidget(new QLabel(tr("Checkpoints"), panel));
  layout->addWidget(checkpoints_);
  layout->addWidget(samples_);
  auto* checkpoint_buttons = new QHBoxLayout;
  checkpoint_buttons->addWidget(use);
  checkpoint_buttons->addWidget(compare_);
  checkpoint_buttons->addStretch(1);
  layout->addLayout(checkpoint_buttons);

  connect(start_, &QPushButton::clicked, this, &TrainTab::start);
  connect(pause_, &QPushButton::clicked, this, &TrainTab::togglePause);
  connect(stop_, &QPushButton::clicked, this, &TrainTab::stop);
  connect(open_run_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Run folder"), output_->text());
    QString error;
    if (!dir.isEmpty() && !openRun(dir, &error)) message_->setText(error);
  });
  connect(checkpoints_, &QTableWidget::currentCellChanged, this, [this](int row) { showSamplesFor(row); });
  connect(compare_, &QPushButton::clicked, this, [this] {
    if (!compareCheckpoints()) message_->setText(tr("No checkpoint of this run is on disk."));
  });
  connect(use, &QPushButton::clicked, this, [this] {
    const int row = checkpoints_->currentRow();
    if (row >= 0 && checkpoints_->item(row, 3)) Q_EMIT useInGenerate(checkpoints_->item(row, 3)->text());
  });
  setRunning(0);
  return panel;
}

void TrainTab::applySettings(const AppSettingsValues& settings) {
  settings_ = settings;
  base_.tokenizer = settings.tokenizer_folder.toStdString();
  base_.device = AppSettings::deviceName(settings.device).toStdString();
}

void TrainTab::applyFamilyDefaults(ModelFamily family) {
  training::TrainConfig config = defaultTrainConfig(family, method_->currentData().toString().toStdString());
  const training::TrainConfig current = currentConfig();
  config.model = current.model;
  config.data = current.data;
  config.output = current.output;
  config.sample_prompts = current.sample_prompts;
  config.tokenizer = base_.tokenizer;
  config.device = base_.device;
  setConfig(config);
}

training::TrainConfig TrainTab::currentConfig() const {
  training::TrainConfig config = base_;
  config.model = model_->text().trimmed().toStdString();
  config.data = dataset_->folder().toStdString();
  config.output = output_->text().trimmed().toStdString();
  config.method = method_->currentData().toString().toStdString();
  config.steps = steps_->value();
  config.batch_size = batch_->value();
  config.lr = lr_->value();
  config.rank = rank_->value();
  config.alpha = alpha_->value();
  config.resolution = resolution_->value();
  config.grad_accum = grad_accum_->value();
  config.lr_scheduler = scheduler_->currentText().toStdString();
  config.warmup = warmup_->value();
  config.ema = ema_->value();
  config.grad_checkpointing = grad_checkpointing_->isChecked();
  config.mixed_precision = mixed_precision_->currentText().toStdString();
  config.min_snr = min_snr_->value();
  config.noise_offset = noise_offset_->value();
  config.save_every = save_every_->value();
  config.keep = keep_->value();
  config.sample_every = sample_every_->value();
  config.sample_prompts = sample_prompts_->text().trimmed().toStdString();
  config.validation_split = validation_split_->value();
  config.validate_every = validate_every_->value();
  config.seed = seed_->value();
  config.flip = flip_->isChecked();
  config.buckets = buckets_->isChecked();
  config.train_text_encoder = text_encoder_->isChecked();
  config.conv_rank = conv_rank_->value();
  return config;
}

void TrainTab::setConfig(const training::TrainConfig& config) {
  base_ = config;
  model_->setText(QString::fromStdString(config.model));
  dataset_->setFolder(QString::fromStdString(config.data));
  output_->setText(QString::fromStdString(config.output));
  method_->setCurrentIndex(std::max(0, method_->findData(QString::fromStdString(config.method))));
  steps_->setValue(static_cast<int>(config.steps));
  batch_->setValue(config.batch_size);
  lr_->setValue(config.lr);
  rank_->setValue(config.rank);
  alpha_->setValue(config.alpha);
  resolution_->setValue(config.resolution);
  grad_accum_->setValue(config.grad_accum);
  scheduler_->setCurrentText(QString::fromStdString(config.lr_scheduler));
  warmup_->setValue(static_cast<int>(config.warmup));
  ema_->setValue(config.ema);
  grad_checkpointing_->setChecked(config.grad_checkpointing);
  mixed_precision_->setCurrentText(QString::fromStdString(config.mixed_precision));
  min_snr_->setValue(config.min_snr);
  noise_offset_->setValue(config.noise_offset);
  save_every_->setValue(static_cast<int>(config.save_every));
  keep_->setValue(config.keep);
  sample_every_->setValue(static_cast<int>(config.sample_every));
  sample_prompts_->setText(QString::fromStdString(config.sample_prompts));
  validation_split_->setValue(config.validation_split);
  validate_every_->setValue(static_cast<int>(config.validate_every));
  seed_->setValue(static_cast<int>(config.seed));
  flip_->setChecked(config.flip);
  buckets_->setChecked(config.buckets);
  text_encoder_->setChecked(config.train_text_encoder);
  conv_rank_->setValue(config.conv_rank);
  dataset_->setResolution(config.resolution, config.buckets);
}

void TrainTab::setRunning(JobId job) {
  job_ = job;
  start_->setEnabled(job == 0);
  pause_->setEnabled(job != 0);
  stop_->setEnabled(job != 0);
  open_run_->setEnabled(job == 0);
  pause_->setText(isPaused() ? tr("Resume") : tr("Pause"));
}

void TrainTab::start() {
  if (job_ != 0) return;
  const training::TrainConfig config = currentConfig();
  auto valid = captureErrors([&] { config.validate(); });
  if (!valid) {
    const QString message = QString::fromStdString(valid.error().detail);
    message_->setText(message);
    Q_EMIT runFailed(message);
    return;
  }
  chart_->clear();
  checkpoints_->setRowCount(0);
  samples_->clear();
  sample_records_.clear();
  last_step_ = 0;
  stats_->clear();
  message_->setText(tr("Starting…"));
  paused_ = std::make_shared<std::atomic<bool>>(false);
  auto paused = paused_;
  const JobId id = worker_.submit("train", tr("Train %1").arg(QString::fromStdString(config.output)),
                                  [this, config, paused](JobContext& context) {
    training::TrainCallbacks callbacks;
    callbacks.cancel = &context.cancelToken();
    callbacks.pause = paused.get();
    callbacks.on_step = [&](const training::StepMetrics& m) {
      context.post(this, [this, m] { onStep(m); });
      context.progress(static_cast<int>(m.step), static_cast<int>(m.total_steps));
    };
    callbacks.on_validation = [&](const training::ValidationMetrics& m) {
      context.post(this, [this, m] { chart_->addValidation(m); });
    };
    callbacks.on_samples = [&](const training::SampleMetrics& m) { context.post(this, [this, m] { addSamples(m); }); };
    callbacks.on_checkpoint = [&](const training::CheckpointMetrics& m) {
      const QString time = QDateTime::currentDateTime().toString(Qt::ISODate);
      context.post(this, [this, m, time] { addCheckpoint(m, time); });
    };
    callbacks.on_message = [&](const std::string& text) {
      const QString message = QString::fromStdString(text);
      context.post(this, [this, message] { message_->setText(message); });
    };
    training::Trainer trainer(config);
    const training::TrainResult result = trainer.run(callbacks);
    const QString status = QString::fromUtf8(training::trainStatusName(result.status));
    const QString message = QString::fromStdString(result.message);
    const QString output = QString::fromStdString(result.output_file);
    context.post(this, [this, status, message, output] {
      chart_->redrawNow();
      setRunning(0);
      message_->setText(status == "completed" ? tr("Finished: %1").arg(output) : tr("Stopped (%1): %2").arg(status, message));
      Q_EMIT runFinished(status, message);
    });
  });
  setRunning(id);
  Q_EMIT runStarted();
}

void TrainTab::togglePause() {
  if (!paused_ || job_ == 0) return;
  paused_->store(!paused_->load());
  pause_->setText(isPaused() ? tr("Resume") : tr("Pause"));
  message_->setText(isPaused() ? tr("Paused (between steps).") : tr("Resumed."));
}

void TrainTab::stop() {
  if (job_ == 0) return;
  if (paused_) paused_->store(false);  // a paused run must reach the step boundary where it saves and stops
  worker_.cancel(job_);
  message_->setText(tr("Stopping: saving a checkpoint…"));
}

void TrainTab::onStep(const training::StepMetrics& m) {
  chart_->addStep(m);
  last_step_ = m.step;
  stats_->setText(tr("Step %1 / %2 · epoch %3 · loss %4 (smoothed %5) · lr %6 · %7 images/s · ETA %8")
                      .arg(m.step)
                      .arg(m.total_steps)
                      .arg(m.epoch)
                      .arg(m.loss, 0, 'g', 4)
                      .arg(m.smoothed_loss, 0, 'g', 4)
                      .arg(m.lr, 0, 'g', 3)
                      .arg(m.images_per_second, 0, 'f', 2)
                      .arg(durationText(m.eta_seconds)));
}

void TrainTab::addCheckpoint(const training::CheckpointMetrics& m, const QString& time_text) {
  const int row = checkpoints_->rowCount();
  checkpoints_->insertRow(row);
  checkpoints_->setItem(row, 0, new QTableWidgetItem(QString::number(m.step)));
  // The time it was saved: live, now; reopened, the folder's modification time.
  const QFileInfo folder(QString::fromStdString(m.path));
  const QString time = !time_text.isEmpty() ? time_text
                       : folder.exists()    ? folder.lastModified().toString(Qt::ISODate)
                                            : QStringLiteral("–");
  checkpoints_->setItem(row, 1, new QTableWidgetItem(time));
  checkpoints_->setItem(row, 2, new QTableWidgetItem(std::isnan(m.validation_loss) ? QStringLiteral("–")
                                                                                    : QString::number(m.validation_loss, 'g', 5)));
  checkpoints_->setItem(row, 3, new QTableWidgetItem(QString::fromStdString(m.path)));
}

void TrainTab::addSamples(const training::SampleMetrics& m) {
  sample_records_.push_back(m);
  if (checkpoints_->currentRow() < 0) showSamplesFor(-1);
}

void TrainTab::showSamplesFor(int checkpoint_row) {
  // A checkpoint's samples: the newest sample set at or before its step (the last set when none is selected).
  const training::SampleMetrics* chosen = nullptr;
  const int64_t step = checkpoint_row >= 0 && checkpoints_->item(checkpoint_row, 0)
                           ? checkpoints_->item(checkpoint_row, 0)->text().toLongLong()
                           : std::numeric_limits<int64_t>::max();
  for (const auto& record : sample_records_) {
    if (record.step <= step) chosen = &record;
  }
  samples_->clear();
  if (!chosen) return;
  for (size_t i = 0; i < chosen->paths.size(); ++i) {
    const QString path = QString::fromStdString(chosen->paths[i]);
    QImageReader reader(path);
    const QSize size = reader.size();
    if (size.isValid()) reader.setScaledSize(size.scaled(128, 128, Qt::KeepAspectRatio));
    auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(reader.read())), tr("step %1").arg(chosen->step), samples_);
    item->setToolTip(i < chosen->prompts.size() ? QString::fromStdString(chosen->prompts[i]) : path);
  }
}

bool TrainTab::openRun(const QString& run_dir, QString* error) {
  if (job_ != 0) {
    if (error) *error = tr("A run is in progress.");
    return false;
  }
  auto records = captureErrors([&] { return training::readMetrics(run_dir.toStdString()); });
  if (!records) {
    if (error) *error = tr("Cannot read the run: %1").arg(QString::fromStdString(records.error().detail));
    return false;
  }
  chart_->clear();
  checkpoints_->setRowCount(0);
  samples_->clear();
  sample_records_.clear();
  last_step_ = 0;
  for (const auto& record : records.value()) {
    if (record.type == "step") onStep(record.step);
    else if (record.type == "validation") chart_->addValidation(record.validation);
    else if (record.type == "checkpoint") addCheckpoint(record.checkpoint, QString());
    else if (record.type == "samples") sample_records_.push_back(record.samples);
    else if (record.type == "end") {
      message_->setText(tr("Run ended: %1 %2").arg(QString::fromStdString(record.run.status), QString::fromStdString(record.run.message)));
    }
  }
  chart_->redrawNow();
  showSamplesFor(-1);
  output_->setText(run_dir);
  return true;
}

CheckpointCompareDialog* TrainTab::compareCheckpoints() {
  std::vector<CompareCheckpoint> checkpoints;
  std::vector<int> selected;
  for (int row = 0; row < checkpoints_->rowCount(); ++row) {
    const QTableWidgetItem* step = checkpoints_->item(row, 0);
    const QTableWidgetItem* folder = checkpoints_->item(row, 3);
    if (!step || !folder || !QFileInfo(folder->text()).isDir()) continue;  // older ones are removed as the run goes
    if (checkpoints_->selectionModel()->isRowSelected(row, QModelIndex())) selected.push_back(static_cast<int>(checkpoints.size()));
    checkpoints.push_back({step->text().toLongLong(), folder->text()});
  }
  if (checkpoints.empty()) return nullptr;
  // The run's own settings (a reopened run's may differ from the widgets): its config.json, a small file.
  training::TrainConfig run = currentConfig();
  QFile stored(QDir(checkpoints.back().folder).filePath("config.json"));
  if (stored.open(QIODevice::ReadOnly)) {
    const QByteArray text = stored.readAll();
    auto parsed = captureErrors([&] { return training::TrainConfig::fromJson(text.toStdString()); });
    if (parsed) run = parsed.value();
  }
  if (compare_dialog_) compare_dialog_->close();
  const QString prompt = prompt_source_ ? prompt_source_() : QString();
  auto* dialog = new CheckpointCompareDialog(worker_, run, checkpoints, selected, prompt,
                                             AppSettings::deviceName(settings_.device), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  compare_dialog_ = dialog;
  dialog->show();
  return dialog;
}

}  // namespace gesso::ui
