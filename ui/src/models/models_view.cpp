// The Models view (see models_view.h).
#include "models/models_view.h"

#include "gesso/error.h"
#include "gesso/io/convert.h"

#include <QApplication>
#include <QFileInfo>
#include <QPointer>
#include <QThreadPool>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <memory>

namespace gesso::ui {

ModelsView::ModelsView(EngineWorker& worker, QWidget* parent) : QWidget(parent), worker_(worker) {
  table_ = new QTableWidget(0, ColumnCount, this);
  table_->setHorizontalHeaderLabels({tr("Name"), tr("Kind"), tr("Family"), tr("Size"), tr("Hash"), tr("Status")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(StatusColumn, QHeaderView::Stretch);
  table_->verticalHeader()->hide();
  refresh_ = new QPushButton(tr("Refresh"), this);
  load_ = new QPushButton(tr("Load"), this);
  unload_ = new QPushButton(tr("Unload"), this);
  convert_ = new QPushButton(tr("Convert"), this);
  load_->setToolTip(tr("Load the selected checkpoint now, so the next job starts at once"));
  convert_->setToolTip(tr("Rewrite the selected PyTorch pickle checkpoint as a .safetensors file beside it (read without "
                          "running any code in it); the app then uses that file"));
  summary_ = new QLabel(this);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(refresh_);
  buttons->addWidget(load_);
  buttons->addWidget(unload_);
  buttons->addWidget(convert_);
  buttons->addStretch(1);
  buttons->addWidget(summary_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(buttons);
  layout->addWidget(table_);
  connect(refresh_, &QPushButton::clicked, this, &ModelsView::refresh);
  connect(load_, &QPushButton::clicked, this, [this] { loadRow(table_->currentRow()); });
  connect(unload_, &QPushButton::clicked, this, [this] { unloadRow(table_->currentRow()); });
  connect(convert_, &QPushButton::clicked, this, [this] { convertRow(table_->currentRow()); });
  connect(table_, &QTableWidget::itemSelectionChanged, this, &ModelsView::updateButtons);
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { chooseRow(row); });
  updateButtons();
}

void ModelsView::applySettings(const AppSettingsValues& settings) {
  settings_ = settings;
  refresh();
}

int ModelsView::rowOf(const QString& path) const {
  const QString canonical = QFileInfo(path).canonicalFilePath();
  for (int i = 0; i < files_.size(); ++i) {
    if (files_[i].path == path || files_[i].path == canonical) return i;
  }
  return -1;
}

void ModelsView::setStatus(int row, const QString& text, bool error) {
  auto* item = new QTableWidgetItem(text);
  item->setToolTip(text);
  if (error) item->setForeground(QColor(200, 40, 40));
  table_->setItem(row, StatusColumn, item);
}

void ModelsView::refresh() {
  files_ = scanModelFolders(settings_.models_folder, settings_.lora_folder);
  ++generation_;
  table_->setRowCount(static_cast<int>(files_.size()));
  int invalid = 0, to_convert = 0;
  for (int row = 0; row < files_.size(); ++row) {
    const ModelFileInfo& file = files_[row];
    auto* name = new QTableWidgetItem(QFileInfo(file.path).fileName());
    name->setToolTip(file.path);
    table_->setItem(row, NameColumn, name);
    table_->setItem(row, KindColumn, new QTableWidgetItem(file.convertible ? tr("PyTorch pickle") : modelKindName(file.kind)));
    table_->setItem(row, FamilyColumn, new QTableWidgetItem);
    table_->setItem(row, SizeColumn, new QTableWidgetItem(byteSizeText(file.size_bytes)));
    table_->setItem(row, HashColumn, new QTableWidgetItem);
    if (file.convertible && converting_.contains(file.path)) {
      setStatus(row, tr("Converting…"), false);
    } else if (file.convertible && QFileInfo::exists(file.convertedPath())) {
      setStatus(row, tr("Converted to %1 (double-click uses it)").arg(QFileInfo(file.convertedPath()).fileName()), false);
    } else if (file.convertible) {
      ++to_convert;  // not an error: one Convert away from use
      setStatus(row, file.error, false);
    } else if (file.kind == ModelKind::Invalid) {
      ++invalid;
      setStatus(row, file.error, true);
    } else {
      setStatus(row, loaded_.contains(file.path) ? tr("Loaded") : tr("Reading…"), false);
    }
  }
  summary_->setText(tr("%n model file(s)", nullptr, static_cast<int>(files_.size())) +
                    (to_convert ? " · " + tr("%n to convert", nullptr, to_convert) : QString()) +
                    (invalid ? " · " + tr("%n unusable", nullptr, invalid) : QString()));
  updateButtons();
  // Family and hash on a pool thread, not the engine worker: hashing reads every byte of each checkpoint (seconds
  // per file), which must not hold up generation jobs. Rows are filled as each file is done; results reach the view
  // through qApp (long-lived) and are dropped if the view is gone or has rescanned since.
  if (inspection_stop_) inspection_stop_->store(true);
  inspection_stop_ = std::make_shared<std::atomic<bool>>(false);
  const QList<ModelFileInfo> files = files_;
  const quint64 generation = generation_;
  QPointer<ModelsView> view(this);
  auto stop = inspection_stop_;
  QThreadPool::globalInstance()->start([view, files, generation, stop] {
    for (int row = 0; row < files.size(); ++row) {
      if (stop->load()) return;
      if (files[row].kind == ModelKind::Invalid) continue;
      auto details = captureErrors([&] { return inspectModelFile(files[row]); });
      const QString error = details ? QString() : QString::fromStdString(details.error().detail);
      const ModelDetails value = details ? details.value() : ModelDetails{};
      QMetaObject::invokeMethod(qApp, [view, row, generation, error, value] {
        if (view) view->showDetails(generation, row, value, error);
      }, Qt::QueuedConnection);
    }
    QMetaObject::invokeMethod(qApp, [view, generation] {
      if (view && generation == view->generation_) Q_EMIT view->inspectionFinished();
    }, Qt::QueuedConnection);
  });
}

ModelsView::~ModelsView() {
  if (inspection_stop_) inspection_stop_->store(true);
}

void ModelsView::showDetails(quint64 generation, int row, const ModelDetails& value, const QString& error) {
  if (generation != generation_ || row >= table_->rowCount()) return;
  if (!error.isEmpty()) {
    setStatus(row, tr("Damaged or unreadable: %1").arg(error), true);
    return;
  }
  table_->item(row, FamilyColumn)->setText(value.family);
  table_->item(row, HashColumn)->setText(value.short_hash);
  table_->item(row, HashColumn)->setToolTip(value.sha256);
  setStatus(row, loaded_.contains(files_[row].path) ? tr("Loaded") : tr("OK"), false);
}

pipeline::ModelLoadOptions ModelsView::loadOptions(const QString& path) const {
  pipeline::ModelLoadOptions options;
  options.model = path.toStdString();
  options.tokenizer = settings_.tokenizer_folder.toStdString();
  options.device = AppSettings::deviceName(settings_.device).toStdString();
  options.precision = AppSettings::precisionName(settings_.precision).toStdString();
  return options;
}

void ModelsView::loadRow(int row) {
  if (row < 0 || row >= files_.size() || files_[row].kind != ModelKind::Checkpoint) return;
  const QString path = files_[row].path;
  const pipeline::ModelLoadOptions options = loadOptions(path);
  setStatus(row, tr("Loading…"), false);
  worker_.submit("load-model", tr("Load %1").arg(QFileInfo(path).fileName()), [this, path, options](JobContext& context) {
    auto loaded = captureErrors([&] { context.models().get(options); });
    const QString error = loaded ? QString() : QString::fromStdString(loaded.error().detail);
    // What the cache holds now (loading one may have dropped another).
    QSet<QString> in_cache;
    for (const auto& held : context.models().loaded()) in_cache.insert(QString::fromStdString(held.model));
    context.post(this, [this, path, error, in_cache] {
      const int row = rowOf(path);
      if (!error.isEmpty()) {
        if (row >= 0) setStatus(row, tr("Cannot load: %1").arg(error), true);
        Q_EMIT loadFailed(path, error);
        return;
      }
      for (const QString& was : loaded_) {
        const int other = rowOf(was);
        if (!in_cache.contains(was) && other >= 0) setStatus(other, tr("OK"), false);
      }
      loaded_ = in_cache;
      if (row >= 0) setStatus(row, tr("Loaded"), false);
      updateButtons();
      Q_EMIT modelLoaded(path);
    });
  });
}

void ModelsView::unloadRow(int row) {
  if (row < 0 || row >= files_.size()) return;
  const QString path = files_[row].path;
  const pipeline::ModelLoadOptions options = loadOptions(path);
  worker_.submit("unload-model", tr("Unload %1").arg(QFileInfo(path).fileName()), [this, path, options](JobContext& context) {
    context.models().unload(options);
    context.post(this, [this, path] {
      loaded_.remove(path);
      const int row = rowOf(path);
      if (row >= 0) setStatus(row, tr("OK"), false);
      updateButtons();
      Q_EMIT modelUnloaded(path);
    });
  });
}

void ModelsView::chooseRow(int row) {
  if (row < 0 || row >= files_.size()) return;
  const ModelFileInfo& file = files_[row];
  if (file.kind != ModelKind::Invalid) {
    Q_EMIT modelChosen(file.path, file.kind);
    return;
  }
  if (!file.convertible) return;
  // A pickle converted before is used through its converted file; otherwise it is converted first.
  const ModelFileInfo converted = classifyModelFile(file.convertedPath());
  if (QFileInfo::exists(converted.path) && converted.kind != ModelKind::Invalid) Q_EMIT modelChosen(converted.path, converted.kind);
  else convertRow(row, true);
}

void ModelsView::convertRow(int row, bool use_after) {
  if (row < 0 || row >= files_.size() || !files_[row].convertible || converting_.contains(files_[row].path)) return;
  const QString source = files_[row].path;
  const QString output = files_[row].convertedPath();
  if (QFileInfo::exists(output)) {
    const QString message = tr("%1 already exists: use it, or move it away to convert again").arg(output);
    setStatus(row, message, true);
    Q_EMIT convertFailed(source, message);
    return;
  }
  converting_.insert(source);
  setStatus(row, tr("Converting…"), false);
  updateButtons();
  io::ConvertOptions options;
  options.input = source.toStdString();
  options.output = output.toStdString();
  worker_.submit("convert", tr("Convert %1").arg(QFileInfo(source).fileName()), [this, source, output, options, use_after](JobContext& context) {
    auto result = captureErrors([&] { return io::convertCheckpoint(options); });
    const QString error = result ? QString() : QString::fromStdString(result.error().detail);
    context.post(this, [this, source, output, error, use_after] {
      converting_.remove(source);
      if (!error.isEmpty()) {
        const int row = rowOf(source);
        if (row >= 0) setStatus(row, tr("Cannot convert: %1").arg(error), true);
        updateButtons();
        Q_EMIT convertFailed(source, error);
        return;
      }
      refresh();
      const int row = rowOf(output);
      if (row >= 0) table_->selectRow(row);
      Q_EMIT converted(source, output);
      if (use_after && row >= 0 && files_[row].kind != ModelKind::Invalid) Q_EMIT modelChosen(files_[row].path, files_[row].kind);
    });
  });
}

void ModelsView::updateButtons() {
  const int row = table_->currentRow();
  const bool valid_row = row >= 0 && row < files_.size();
  const bool checkpoint = valid_row && files_[row].kind == ModelKind::Checkpoint;
  load_->setEnabled(checkpoint && !loaded_.contains(files_[row].path));
  unload_->setEnabled(checkpoint && loaded_.contains(files_[row].path));
  convert_->setEnabled(valid_row && files_[row].convertible && !converting_.contains(files_[row].path));
}

}  // namespace gesso::ui
