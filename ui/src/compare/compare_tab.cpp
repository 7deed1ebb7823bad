// The Compare tab (see compare_tab.h): widgets, the compare and fork jobs on the worker, the scrubber and the export.
#include "compare/compare_tab.h"

#include "compare/compare_cell_view.h"
#include "compare/fork_dialog.h"
#include "gesso/diffusion/sampler.h"
#include "gesso/diffusion/schedulers.h"
#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "gesso/image/png_metadata.h"
#include "gesso/pipeline/output.h"
#include "models/model_folders.h"
#include "util/qt_image.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <set>

namespace gesso::ui {

namespace {

QListWidget* checkList(const std::vector<std::string>& names, const std::set<std::string>& checked, QWidget* parent) {
  auto* list = new QListWidget(parent);
  for (const auto& name : names) {
    auto* item = new QListWidgetItem(QString::fromStdString(name), list);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(checked.count(name) ? Qt::Checked : Qt::Unchecked);
  }
  list->setMaximumHeight(140);
  return list;
}

std::vector<std::string> checkedNames(const QListWidget* list) {
  std::vector<std::string> names;
  for (int i = 0; i < list->count(); ++i) {
    if (list->item(i)->checkState() == Qt::Checked) names.push_back(list->item(i)->text().toStdString());
  }
  return names;
}

void setChecked(QListWidget* list, const QStringList& names) {
  for (int i = 0; i < list->count(); ++i) {
    list->item(i)->setCheckState(names.contains(list->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
  }
}

// "20, 30" -> numbers; false on an empty list or a malformed number.
template <typename T>
bool parseNumbers(const QString& text, std::vector<T>& out) {
  out.clear();
  for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const double value = part.trimmed().toDouble(&ok);
    if (!ok) return false;
    out.push_back(static_cast<T>(value));
  }
  return !out.empty();
}

QString timeText(double ms) { return QString::number(ms / 1000.0, 'f', 2) + " s"; }

}  // namespace

CompareTab::CompareTab(EngineWorker& worker, QWidget* parent) : QWidget(parent), worker_(worker) {
  auto* cells_area = new QScrollArea(this);
  auto* cells_widget = new QWidget(cells_area);
  grid_ = new QGridLayout(cells_widget);
  grid_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  cells_area->setWidget(cells_widget);
  cells_area->setWidgetResizable(true);

  scrubber_ = new QSlider(Qt::Horizontal, this);
  scrubber_->setRange(1, 1);
  scrubber_->setEnabled(false);
  scrubber_->setToolTip(tr("Show every cell at this step"));
  scrub_label_ = new QLabel(tr("Step: live"), this);
  connect(scrubber_, &QSlider::valueChanged, this, &CompareTab::scrubTo);
  auto* scrub_row = new QHBoxLayout;
  scrub_row->addWidget(scrub_label_);
  scrub_row->addWidget(scrubber_, 1);

  auto* right = new QWidget(this);
  auto* right_layout = new QVBoxLayout(right);
  right_layout->addLayout(scrub_row);
  right_layout->addWidget(cells_area, 1);

  auto* splitter = new QSplitter(this);
  splitter->addWidget(buildControls());
  splitter->addWidget(right);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(splitter);

  auto finished_elsewhere = [this](JobId id) {
    if (id == job_) setRunning(0);
  };
  connect(&worker_, &EngineWorker::jobFailed, this, [this](JobId id, const QString& message) {
    if (id != job_) return;
    setRunning(0);
    status_->setText(tr("Failed: %1").arg(message));
    Q_EMIT compareFailed(message);
  });
  connect(&worker_, &EngineWorker::jobCancelled, this, [this](JobId id) {
    if (id != job_) return;
    setRunning(0);
    status_->setText(tr("Cancelled"));
  });
  connect(&worker_, &EngineWorker::jobFinished, this, finished_elsewhere);
}

QWidget* CompareTab::buildControls() {
  auto* panel = new QWidget(this);
  model_ = new QComboBox(panel);
  model_->setEditable(true);
  model_->setToolTip(tr("Checkpoint (from the models folder, or a path)"));
  prompt_ = new QPlainTextEdit(panel);
  prompt_->setPlaceholderText(tr("Prompt"));
  prompt_->setMaximumHeight(90);
  negative_ = new QPlainTextEdit(panel);
  negative_->setPlaceholderText(tr("Negative prompt"));
  negative_->setMaximumHeight(60);
  seed_ = new QLineEdit("-1", panel);
  seed_->setToolTip(tr("Seed (-1: random, the same for every cell)"));
  width_ = new QSpinBox(panel);
  height_ = new QSpinBox(panel);
  for (QSpinBox* box : {width_, height_}) {
    box->setRange(64, 4096);
    box->setSingleStep(64);
    box->setValue(512);
  }
  samplers_ = checkList(diffusion::samplerNames(), {"euler", "dpmpp_2m"}, panel);
  schedulers_ = checkList(diffusion::schedulerNames(), {"normal", "karras"}, panel);
  steps_ = new QLineEdit("20", panel);
  steps_->setToolTip(tr("Step counts, comma separated"));
  cfg_ = new QLineEdit("7", panel);
  cfg_->setToolTip(tr("CFG scales, comma separated"));
  run_button_ = new QPushButton(tr("Compare"), panel);
  run_button_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  cancel_button_ = new QPushButton(tr("Cancel"), panel);
  cancel_button_->setEnabled(false);
  export_button_ = new QPushButton(tr("Export grid…"), panel);
  from_generate_ = new QPushButton(tr("From Generate"), panel);
  from_generate_->setToolTip(tr("Take the model, prompts, seed and size from the Generate tab"));
  from_generate_->setVisible(false);
  connect(from_generate_, &QPushButton::clicked, this, [this] {
    if (provider_) setBaseRequest(provider_());
  });
  export_button_->setEnabled(false);
  status_ = new QLabel(panel);
  status_->setWordWrap(true);

  auto* form = new QFormLayout;
  form->addRow(from_generate_);
  form->addRow(tr("Model"), model_);
  form->addRow(tr("Prompt"), prompt_);
  form->addRow(tr("Negative"), negative_);
  form->addRow(tr("Seed"), seed_);
  auto* size = new QHBoxLayout;
  size->addWidget(width_);
  size->addWidget(new QLabel("×", panel));
  size->addWidget(height_);
  form->addRow(tr("Size"), size);
  form->addRow(tr("Samplers"), samplers_);
  form->addRow(tr("Schedulers"), schedulers_);
  form->addRow(tr("Steps"), steps_);
  form->addRow(tr("CFG"), cfg_);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(run_button_);
  buttons->addWidget(cancel_button_);
  auto* layout = new QVBoxLayout(panel);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(export_button_);
  layout->addWidget(status_);
  layout->addStretch(1);

  connect(run_button_, &QPushButton::clicked, this, &CompareTab::run);
  connect(cancel_button_, &QPushButton::clicked, this, &CompareTab::cancel);
  connect(export_button_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export grid"), settings_.outputs_folder, tr("PNG images (*.png)"));
    if (path.isEmpty()) return;
    QString error;
    if (!exportGrid(path, &error)) status_->setText(tr("Export failed: %1").arg(error));
    else status_->setText(tr("Grid written to %1").arg(path));
  });
  return panel;
}

void CompareTab::applySettings(const AppSettingsValues& settings) {
  settings_ = settings;
  base_.tokenizer = settings.tokenizer_folder.toStdString();
  base_.device = AppSettings::deviceName(settings.device).toStdString();
  base_.precision = AppSettings::precisionName(settings.precision).toStdString();
  const QString current = model_->currentText();
  model_->clear();
  if (const ModelChoice bundled = bundledModelChoice(); !bundled.path.isEmpty()) model_->addItem(bundled.label, bundled.path);
  for (const ModelFileInfo& file : scanModelFolders(settings.models_folder, {})) {
    if (file.kind == ModelKind::Checkpoint) model_->addItem(QFileInfo(file.path).fileName(), file.path);
  }
  if (!current.isEmpty()) model_->setCurrentText(current);
}

void CompareTab::setBaseRequestProvider(std::function<pipeline::GenerateRequest()> provider) {
  provider_ = std::move(provider);
  from_generate_->setVisible(static_cast<bool>(provider_));
}

void CompareTab::setBaseRequest(const pipeline::GenerateRequest& request) {
  base_ = request;
  const QString model = QString::fromStdString(request.model);
  const int index = model_->findData(model);
  if (index >= 0) {
    model_->setCurrentIndex(index);
  } else {
    model_->addItem(QFileInfo(model).fileName(), model);
    model_->setCurrentIndex(model_->count() - 1);
  }
  prompt_->setPlainText(QString::fromStdString(request.prompt));
  negative_->setPlainText(QString::fromStdString(request.negative_prompt));
  seed_->setText(QString::number(request.seed));
  width_->setValue(request.width);
  height_->setValue(request.height);
}

pipeline::GenerateRequest CompareTab::baseRequest() const {
  pipeline::GenerateRequest request = base_;
  const QVariant data = model_->currentData();
  request.model = (data.isValid() && model_->itemText(model_->currentIndex()) == model_->currentText()
                       ? data.toString()
                       : model_->currentText())
                      .toStdString();
  request.prompt = prompt_->toPlainText().toStdString();
  request.negative_prompt = negative_->toPlainText().toStdString();
  request.seed = seed_->text().trimmed().toLongLong();
  request.width = width_->value();
  request.height = height_->value();
  request.batch_size = 1;
  request.batch_count = 1;
  request.preview_every = 1;  // every cell's preview at every step (the scrubber needs them all)
  return request;
}

void CompareTab::setSelection(const QStringList& samplers, const QStringList& schedulers, const QList<int>& steps,
                              const QList<double>& cfg_scales) {
  setChecked(samplers_, samplers);
  setChecked(schedulers_, schedulers);
  QStringList steps_text, cfg_text;
  for (int n : steps) steps_text << QString::number(n);
  for (double c : cfg_scales) cfg_text << QString::number(c);
  steps_->setText(steps_text.join(", "));
  cfg_->setText(cfg_text.join(", "));
}

std::vector<pipeline::CompareCell> CompareTab::selectedCells(QString* error) const {
  std::vector<int> steps;
  std::vector<double> cfg;
  const auto samplers = checkedNames(samplers_);
  const auto schedulers = checkedNames(schedulers_);
  QString problem;
  if (samplers.empty()) problem = tr("Check at least one sampler.");
  else if (schedulers.empty()) problem = tr("Check at least one scheduler.");
  else if (!parseNumbers(steps_->text(), steps)) problem = tr("Steps must be whole numbers separated by commas.");
  else if (!parseNumbers(cfg_->text(), cfg)) problem = tr("CFG scales must be numbers separated by commas.");
  if (!problem.isEmpty()) {
    if (error) *error = problem;
    return {};
  }
  return pipeline::compareCells(samplers, schedulers, steps, cfg);
}

QString CompareTab::cellLabel(int index) const { return cells_.at(static_cast<size_t>(index)).label; }

pipeline::GenerateRequest CompareTab::cellRequest(int index) const { return cells_.at(static_cast<size_t>(index)).request; }

pipeline::ModelLoadOptions CompareTab::loadOptions() const { return pipeline::ModelLoadOptions::fromRequest(run_base_); }

void CompareTab::clearCells() {
  for (CompareCellView* view : views_) {
    grid_->removeWidget(view);
    view->deleteLater();
  }
  views_.clear();
  cells_.clear();
  forks_ = 0;
}

CompareCellView* CompareTab::addCellView(const Cell& cell, int row, int column) {
  auto* view = new CompareCellView(cell.label, grid_->parentWidget());
  view->setTotalSteps(cell.request.steps);
  grid_->addWidget(view, row, column);
  const int index = static_cast<int>(views_.size());
  views_.push_back(view);
  connect(view, &CompareCellView::openRequested, this, [this, index] { Q_EMIT openInGenerate(cellRequest(index)); });
  connect(view, &CompareCellView::forkRequested, this, [this, index](int step) { askFork(index, step); });
  return view;
}

void CompareTab::setRunning(JobId job) {
  job_ = job;
  run_button_->setEnabled(job == 0);
  cancel_button_->setEnabled(job != 0);
  export_button_->setEnabled(job == 0 && !cells_.empty() && !views_.front()->finalImage().isNull());
  for (size_t i = 0; i < views_.size(); ++i) {
    const bool done = !views_[i]->finalImage().isNull();
    views_[i]->setActionsEnabled(true, job == 0 && done && !cells_[i].latents.empty());
  }
}

void CompareTab::run() {
  if (job_ != 0) return;
  QString error;
  const std::vector<pipeline::CompareCell> cells = selectedCells(&error);
  if (cells.empty()) {
    status_->setText(error);
    Q_EMIT compareFailed(error);
    return;
  }
  pipeline::GenerateRequest base = baseRequest();
  if (base.seed < 0) base.seed = static_cast<int64_t>(QRandomGenerator::global()->bounded(4294967295U));
  auto valid = captureErrors([&] {
    for (const auto& cell : cells) pipeline::validateRequest(pipeline::cellRequest(base, cell));
  });
  if (!valid) {
    const QString message = QString::fromStdString(valid.error().detail);
    status_->setText(message);
    Q_EMIT compareFailed(message);
    return;
  }
  seed_->setText(QString::number(base.seed));
  run_base_ = base;
  clearCells();
  // The grid's layout: a column per (sampler, scheduler), a row per (steps, CFG), as compareGrid draws it.
  size_t per_group = 1;
  while (per_group < cells.size() && cells[per_group].sampler == cells[0].sampler &&
         cells[per_group].scheduler == cells[0].scheduler) {
    ++per_group;
  }
  if (cells.size() % per_group != 0) per_group = 1;
  rows_ = static_cast<int>(per_group);
  columns_ = static_cast<int>(cells.size() / per_group);
  for (size_t i = 0; i < cells.size(); ++i) {
    Cell cell{cells[i], pipeline::cellRequest(base, cells[i]), {}, QString::fromStdString(cells[i].label()), -1};
    cells_.push_back(cell);
    addCellView(cells_.back(), static_cast<int>(i) % rows_, static_cast<int>(i) / rows_);
  }
  updateScrubberRange();
  status_->setText(tr("Running %n cell(s)…", nullptr, static_cast<int>(cells.size())));

  const JobId id = worker_.submit("compare", tr("Compare %n cell(s)", nullptr, static_cast<int>(cells.size())),
                                  [this, base, cells](JobContext& context) {
    auto model = context.models().get(pipeline::ModelLoadOptions::fromRequest(base));
    pipeline::CompareCallbacks callbacks;
    callbacks.cancel = &context.cancelToken();
    callbacks.on_preview = [&](int cell, const pipeline::PreviewEvent& event) {
      const QImage preview = toQImage(event.images.at(0));
      const int step = event.step + 1;
      context.post(this, [this, cell, step, preview] {
        if (cell < cellCount()) views_[static_cast<size_t>(cell)]->addPreview(step, preview);
      });
    };
    callbacks.on_time = [&](int cell, int step, double ms) {
      context.post(this, [this, cell, ms] {
        if (cell < cellCount()) views_[static_cast<size_t>(cell)]->setTime(ms);
      });
      context.progress(step + 1, cells[static_cast<size_t>(cell)].steps, QString::fromStdString(cells[static_cast<size_t>(cell)].label()));
    };
    auto result = std::make_shared<pipeline::CompareResult>(pipeline::compare(*model, base, cells, callbacks));
    std::vector<QImage> finals;
    for (const auto& image : result->images) finals.push_back(toQImage(image));
    context.post(this, [this, result, finals] {
      for (size_t i = 0; i < finals.size() && i < views_.size(); ++i) {
        cells_[i].latents = std::move(result->step_latents[i]);
        views_[i]->setTime(result->cell_ms[i]);
        views_[i]->setFinal(finals[i]);
      }
      status_->setText(tr("Finished %n cell(s).", nullptr, static_cast<int>(finals.size())));
      setRunning(0);
      scrubber_->setEnabled(true);
      scrubber_->setValue(scrubber_->maximum());
      Q_EMIT compareFinished();
    });
  });
  setRunning(id);
}

void CompareTab::cancel() {
  if (job_ != 0) worker_.cancel(job_);
}

void CompareTab::updateScrubberRange() {
  int most = 1;
  for (const Cell& cell : cells_) most = std::max(most, cell.request.steps);
  const QSignalBlocker block(scrubber_);
  scrubber_->setRange(1, most);
  scrubber_->setValue(most);
}

void CompareTab::scrubTo(int step) {
  scrub_label_->setText(step >= scrubber_->maximum() ? tr("Step %1 (final)").arg(step) : tr("Step %1").arg(step));
  for (CompareCellView* view : views_) view->showStep(step);
}

bool CompareTab::exportGrid(const QString& path, QString* error) {
  std::vector<pipeline::CompareCell> cells;
  std::vector<image::Image> images;
  std::vector<std::string> labels;
  for (size_t i = 0; i < cells_.size(); ++i) {
    if (views_[i]->finalImage().isNull()) continue;
    cells.push_back(cells_[i].settings);
    images.push_back(fromQImage(views_[i]->finalImage()));
    labels.push_back(cells_[i].label.toStdString() + " " + timeText(views_[i]->timeMs()).toStdString());
  }
  auto written = captureErrors([&] {
    if (cells.empty()) fail(ErrorCode::InvalidArgument, "there is no finished cell to export");
    const image::Image grid = pipeline::compareGrid(cells, images, labels);
    image::writePng(path.toStdString(), grid, image::generationTextChunks(image::GenerationParameters{}, pipeline::requestToJson(run_base_)));
  });
  if (!written) {
    if (error) *error = QString::fromStdString(written.error().detail);
    return false;
  }
  return true;
}

void CompareTab::askFork(int index, int step) {
  ForkDialog dialog(cellRequest(index), step, this);
  if (dialog.exec() != QDialog::Accepted) return;
  forkCell(index, step, dialog.request());
}

void CompareTab::forkCell(int index, int step, const pipeline::GenerateRequest& request) {
  if (job_ != 0 || index < 0 || index >= cellCount()) return;
  const Cell& parent = cells_[static_cast<size_t>(index)];
  if (step < 1 || step > static_cast<int>(parent.latents.size()) || !parent.latents[static_cast<size_t>(step - 1)].x.defined()) {
    status_->setText(tr("Cell %1 has no latent at step %2 (forks need a finished run).").arg(index + 1).arg(step));
    return;
  }
  const pipeline::StepLatent from = parent.latents[static_cast<size_t>(step - 1)];
  pipeline::GenerateRequest fork_request = request;
  fork_request.seed = parent.request.seed;
  fork_request.preview_every = 1;
  Cell cell;
  cell.settings = pipeline::CompareCell{request.sampler, request.scheduler, request.steps, request.cfg_scale};
  cell.request = fork_request;
  cell.fork_of = index;
  cell.label = tr("fork of %1 at step %2: %3").arg(index + 1).arg(step).arg(QString::fromStdString(cell.settings.label()));
  if (request.prompt != parent.request.prompt) cell.label += " · " + QString::fromStdString(request.prompt);
  cells_.push_back(cell);
  const int fork_row = rows_ + forks_ / std::max(1, columns_);
  CompareCellView* view = addCellView(cells_.back(), fork_row, forks_ % std::max(1, columns_));
  ++forks_;
  const int cell_index = cellCount() - 1;
  status_->setText(tr("Forking cell %1 at step %2…").arg(index + 1).arg(step));

  const JobId id = worker_.submit("fork", cell.label, [this, from, fork_request, cell_index](JobContext& context) {
    auto model = context.models().get(pipeline::ModelLoadOptions::fromRequest(fork_request));
    pipeline::GenerateCallbacks callbacks;
    callbacks.cancel = &context.cancelToken();
    int start_step = 0;
    callbacks.on_preview = [&](const pipeline::PreviewEvent& event) {
      const QImage preview = toQImage(event.images.at(0));
      const int step = start_step + event.step + 1;
      context.post(this, [this, cell_index, step, preview] {
        if (cell_index < cellCount()) views_[static_cast<size_t>(cell_index)]->addPreview(step, preview);
      });
    };
    // The fork's steps are numbered in its own schedule (ForkEntry::start_step), so previews say which step they are.
    start_step = pipeline::forkEntry(pipeline::requestSigmas(*model, fork_request), from.sigma).start_step;
    auto result = std::make_shared<pipeline::ForkResult>(pipeline::fork(*model, from, fork_request, callbacks));
    const QImage image = toQImage(result->image);
    context.post(this, [this, result, image, cell_index] {
      if (cell_index >= cellCount()) return;
      Cell& done = cells_[static_cast<size_t>(cell_index)];
      // Step latents indexed by step of the new schedule: the steps before the entry have none.
      done.latents.assign(static_cast<size_t>(result->entry.start_step), pipeline::StepLatent{});
      for (auto& latent : result->step_latents) done.latents.push_back(std::move(latent));
      views_[static_cast<size_t>(cell_index)]->setTime(result->ms);
      views_[static_cast<size_t>(cell_index)]->setFinal(image);
      status_->setText(tr("Fork finished."));
      setRunning(0);
      updateScrubberRange();
      Q_EMIT forkFinished(cell_index);
    });
  });
  Q_UNUSED(view);
  setRunning(id);
}

}  // namespace gesso::ui
