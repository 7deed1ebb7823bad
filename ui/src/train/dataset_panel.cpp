// The dataset panel (see dataset_panel.h).
#include "train/dataset_panel.h"

#include "gesso/error.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <memory>

namespace gesso::ui {

namespace {
constexpr int kThumbnailSide = 96;

QImage thumbnail(const QString& path) {
  QImageReader reader(path);
  reader.setAutoTransform(true);
  const QSize size = reader.size();
  if (size.isValid()) reader.setScaledSize(size.scaled(kThumbnailSide, kThumbnailSide, Qt::KeepAspectRatio));
  return reader.read();
}

QString captionPath(const QString& image_path) {
  const QFileInfo info(image_path);
  return info.dir().filePath(info.completeBaseName() + ".txt");
}
}  // namespace

DatasetPanel::DatasetPanel(EngineWorker& worker, QWidget* parent) : QWidget(parent), worker_(worker) {
  folder_ = new QLineEdit(this);
  folder_->setPlaceholderText(tr("Folder of images with .txt captions"));
  browse_ = new QPushButton(tr("Browse…"), this);
  scan_button_ = new QPushButton(tr("Scan"), this);
  thumbnails_ = new QListWidget(this);
  thumbnails_->setViewMode(QListView::IconMode);
  thumbnails_->setIconSize(QSize(kThumbnailSide, kThumbnailSide));
  thumbnails_->setResizeMode(QListView::Adjust);
  thumbnails_->setUniformItemSizes(true);
  thumbnails_->setMovement(QListView::Static);
  caption_ = new QPlainTextEdit(this);
  caption_->setPlaceholderText(tr("Caption of the selected image"));
  caption_->setMaximumHeight(70);
  save_caption_ = new QPushButton(tr("Save caption"), this);
  save_caption_->setEnabled(false);
  caption_status_ = new QLabel(this);
  skipped_ = new QTableWidget(0, 2, this);
  skipped_->setHorizontalHeaderLabels({tr("File"), tr("Why it was skipped")});
  skipped_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  skipped_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  buckets_ = new QTableWidget(0, 2, this);
  buckets_->setHorizontalHeaderLabels({tr("Bucket (w × h)"), tr("Images")});
  buckets_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  buckets_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  summary_ = new QLabel(this);

  auto* folder_row = new QHBoxLayout;
  folder_row->addWidget(folder_, 1);
  folder_row->addWidget(browse_);
  folder_row->addWidget(scan_button_);
  auto* caption_row = new QHBoxLayout;
  caption_row->addWidget(caption_, 1);
  auto* caption_buttons = new QVBoxLayout;
  caption_buttons->addWidget(save_caption_);
  caption_buttons->addWidget(caption_status_);
  caption_row->addLayout(caption_buttons);
  auto* reports = new QTabWidget(this);
  reports->addTab(skipped_, tr("Skipped files"));
  reports->addTab(buckets_, tr("Buckets"));
  reports->setMaximumHeight(150);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(folder_row);
  layout->addWidget(summary_);
  layout->addWidget(thumbnails_, 1);
  layout->addLayout(caption_row);
  layout->addWidget(reports);

  connect(browse_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Dataset folder"), folder_->text());
    if (!dir.isEmpty()) {
      setFolder(dir);
      rescan();
    }
  });
  connect(scan_button_, &QPushButton::clicked, this, &DatasetPanel::rescan);
  connect(thumbnails_, &QListWidget::currentRowChanged, this, &DatasetPanel::selectItem);
  connect(save_caption_, &QPushButton::clicked, this, [this] {
    QString error;
    caption_status_->setText(saveCaption(&error) ? tr("Saved") : error);
  });
  connect(caption_, &QPlainTextEdit::textChanged, this, [this] { caption_status_->clear(); });
}

QString DatasetPanel::folder() const { return folder_->text().trimmed(); }
void DatasetPanel::setFolder(const QString& folder) { folder_->setText(folder); }

void DatasetPanel::setResolution(int resolution, bool buckets) {
  resolution_ = resolution;
  use_buckets_ = buckets;
}

void DatasetPanel::rescan() {
  training::DatasetOptions options;
  options.folder = folder().toStdString();
  options.resolution = resolution_;
  options.buckets = use_buckets_;
  scan_button_->setEnabled(false);
  summary_->setText(tr("Scanning…"));
  worker_.submit("scan-dataset", tr("Scan %1").arg(folder()), [this, options](JobContext& context) {
    auto outcome = captureErrors([&] { return training::scanDataset(options); });
    if (!outcome) {
      const QString message = QString::fromStdString(outcome.error().detail);
      context.post(this, [this, message] {
        scan_button_->setEnabled(true);
        summary_->setText(tr("Cannot use this folder: %1").arg(message));
        Q_EMIT scanFailed(message);
      });
      return;
    }
    auto scan = std::make_shared<training::DatasetScan>(std::move(outcome.value()));
    std::vector<QImage> thumbs;
    for (const auto& item : scan->items) {
      if (context.isCancelled()) return;
      thumbs.push_back(thumbnail(QString::fromStdString(item.image_path)));
    }
    context.post(this, [this, scan, thumbs] {
      scan_ = *scan;
      scan_button_->setEnabled(true);
      thumbnails_->clear();
      for (size_t i = 0; i < scan_.items.size(); ++i) {
        const auto& item = scan_.items[i];
        auto* entry = new QListWidgetItem(QIcon(QPixmap::fromImage(thumbs[i])), QFileInfo(QString::fromStdString(item.image_path)).fileName(), thumbnails_);
        entry->setToolTip(QString::fromStdString(item.caption));
      }
      skipped_->setRowCount(static_cast<int>(scan_.skipped.size()));
      for (size_t i = 0; i < scan_.skipped.size(); ++i) {
        skipped_->setItem(static_cast<int>(i), 0, new QTableWidgetItem(QString::fromStdString(scan_.skipped[i].path)));
        skipped_->setItem(static_cast<int>(i), 1, new QTableWidgetItem(QString::fromStdString(scan_.skipped[i].reason)));
      }
      buckets_->setRowCount(static_cast<int>(scan_.bucket_counts.size()));
      int row = 0;
      for (const auto& [size, count] : scan_.bucket_counts) {
        buckets_->setItem(row, 0, new QTableWidgetItem(QStringLiteral("%1 × %2").arg(size.first).arg(size.second)));
        buckets_->setItem(row, 1, new QTableWidgetItem(QString::number(count)));
        ++row;
      }
      summary_->setText(tr("%n usable image(s)", nullptr, static_cast<int>(scan_.items.size())) + " · " +
                        tr("%n skipped", nullptr, static_cast<int>(scan_.skipped.size())) + " · " +
                        tr("%n bucket(s)", nullptr, static_cast<int>(scan_.bucket_counts.size())));
      selected_ = -1;
      caption_->clear();
      save_caption_->setEnabled(false);
      if (!scan_.items.empty()) thumbnails_->setCurrentRow(0);
      Q_EMIT scanned(static_cast<int>(scan_.items.size()), static_cast<int>(scan_.skipped.size()));
    });
  });
}

void DatasetPanel::selectItem(int index) {
  if (index < 0 || index >= static_cast<int>(scan_.items.size())) return;
  selected_ = index;
  // The caption file as it is now (it may have been edited since the scan).
  QFile file(captionPath(QString::fromStdString(scan_.items[static_cast<size_t>(index)].image_path)));
  const QString text = file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()).trimmed()
                                                      : QString::fromStdString(scan_.items[static_cast<size_t>(index)].caption);
  caption_->setPlainText(text);
  caption_status_->clear();
  save_caption_->setEnabled(true);
}

bool DatasetPanel::saveCaption(QString* error) {
  if (selected_ < 0 || selected_ >= static_cast<int>(scan_.items.size())) {
    if (error) *error = tr("No image is selected.");
    return false;
  }
  auto& item = scan_.items[static_cast<size_t>(selected_)];
  const QString path = captionPath(QString::fromStdString(item.image_path));
  QSaveFile file(path);  // temp file beside it, renamed on commit: never a half-written caption
  const QByteArray text = caption_->toPlainText().trimmed().toUtf8();
  if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit()) {
    if (error) *error = tr("Cannot write %1: %2").arg(path, file.errorString());
    return false;
  }
  item.caption = text.toStdString();
  if (QListWidgetItem* entry = thumbnails_->item(selected_)) entry->setToolTip(QString::fromUtf8(text));
  return true;
}

}  // namespace gesso::ui
