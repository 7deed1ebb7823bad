// Gallery and history (see gallery_widget.h).
#include "generate/gallery_widget.h"

#include <QDesktopServices>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSplitter>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

namespace gesso::ui {
namespace {
constexpr int kThumbnailPixels = 96;
constexpr int kEntryRole = Qt::UserRole + 1;
}

GalleryWidget::GalleryWidget(QWidget* parent) : QWidget(parent) {
  list_ = new QListWidget(this);
  list_->setObjectName("galleryList");
  list_->setViewMode(QListView::IconMode);
  list_->setIconSize(QSize(kThumbnailPixels, kThumbnailPixels));
  list_->setResizeMode(QListView::Adjust);
  list_->setMovement(QListView::Static);
  list_->setUniformItemSizes(true);
  list_->setMinimumHeight(kThumbnailPixels + 24);

  image_ = new QLabel(this);
  image_->setAlignment(Qt::AlignCenter);
  image_->setMinimumSize(128, 128);
  parameters_ = new QTextBrowser(this);
  parameters_->setObjectName("galleryParameters");

  send_ = new QPushButton(tr("Send to img2img"), this);
  reuse_ = new QPushButton(tr("Reuse parameters"), this);
  open_folder_ = new QPushButton(tr("Open folder"), this);
  for (QPushButton* button : {send_, reuse_, open_folder_}) button->setEnabled(false);

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(send_);
  buttons->addWidget(reuse_);
  buttons->addWidget(open_folder_);
  buttons->addStretch();

  auto* details = new QWidget(this);
  auto* details_layout = new QHBoxLayout(details);
  details_layout->setContentsMargins(0, 0, 0, 0);
  details_layout->addWidget(image_, 1);
  details_layout->addWidget(parameters_, 1);

  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(details);
  splitter->addWidget(list_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter, 1);
  layout->addLayout(buttons);

  connect(list_, &QListWidget::currentRowChanged, this, &GalleryWidget::showSelected);
  connect(send_, &QPushButton::clicked, this, [this] {
    if (const HistoryEntry* entry = selected()) Q_EMIT sendToImg2img(entry->path);
  });
  connect(reuse_, &QPushButton::clicked, this, [this] {
    if (const HistoryEntry* entry = selected()) Q_EMIT reuseParameters(entry->parameters);
  });
  connect(open_folder_, &QPushButton::clicked, this, [this] {
    if (const HistoryEntry* entry = selected())
      QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(entry->path).absolutePath()));
  });
}

void GalleryWidget::addItem(const HistoryEntry& entry, int index) {
  QPixmap thumbnail(entry.path);
  if (!thumbnail.isNull())
    thumbnail = thumbnail.scaled(kThumbnailPixels, kThumbnailPixels, Qt::KeepAspectRatio, Qt::SmoothTransformation);
  auto* item = new QListWidgetItem(QIcon(thumbnail), QFileInfo(entry.path).fileName());
  item->setData(kEntryRole, index);
  item->setToolTip(describe(entry));
  list_->insertItem(0, item);  // newest first
}

void GalleryWidget::setEntries(const QList<HistoryEntry>& entries) {
  entries_ = entries;
  list_->clear();
  for (int i = 0; i < entries_.size(); ++i) addItem(entries_[i], i);
  if (!entries_.isEmpty()) list_->setCurrentRow(0);
  Q_EMIT entriesChanged();
}

void GalleryWidget::addEntry(const HistoryEntry& entry) {
  entries_.append(entry);
  addItem(entry, entries_.size() - 1);
  list_->setCurrentRow(0);
  Q_EMIT entriesChanged();
}

const HistoryEntry* GalleryWidget::selected() const {
  const QListWidgetItem* item = list_->currentItem();
  if (!item) return nullptr;
  const int index = item->data(kEntryRole).toInt();
  return index >= 0 && index < entries_.size() ? &entries_[index] : nullptr;
}

void GalleryWidget::select(int index_in_entries) {
  for (int row = 0; row < list_->count(); ++row)
    if (list_->item(row)->data(kEntryRole).toInt() == index_in_entries) list_->setCurrentRow(row);
}

QString GalleryWidget::describe(const HistoryEntry& entry) {
  const pipeline::GenerateRequest& r = entry.parameters;
  QStringList lines;
  lines << QString::fromStdString(r.prompt);
  if (!r.negative_prompt.empty()) lines << tr("Negative prompt: %1").arg(QString::fromStdString(r.negative_prompt));
  lines << tr("Steps: %1, Sampler: %2, Scheduler: %3, CFG scale: %4, Seed: %5, Size: %6x%7")
               .arg(r.steps)
               .arg(QString::fromStdString(r.sampler), QString::fromStdString(r.scheduler))
               .arg(r.cfg_scale)
               .arg(r.seed)
               .arg(r.width)
               .arg(r.height);
  lines << tr("Model: %1").arg(QFileInfo(QString::fromStdString(r.model)).fileName());
  if (!r.init_image.empty()) lines << tr("Denoising strength: %1").arg(r.strength);
  if (r.hires_scale > 1.0) lines << tr("Hires upscale: %1, Hires strength: %2").arg(r.hires_scale).arg(r.hires_strength);
  if (entry.finished.isValid()) lines << tr("Finished: %1").arg(entry.finished.toString(Qt::ISODate));
  lines << entry.path;
  return lines.join('\n');
}

void GalleryWidget::showSelected() {
  const HistoryEntry* entry = selected();
  for (QPushButton* button : {send_, reuse_, open_folder_}) button->setEnabled(entry != nullptr);
  if (!entry) {
    image_->clear();
    parameters_->clear();
    return;
  }
  const QPixmap pixmap(entry->path);
  image_->setPixmap(pixmap.isNull() ? QPixmap() : pixmap.scaled(256, 256, Qt::KeepAspectRatio, Qt::SmoothTransformation));
  if (pixmap.isNull()) image_->setText(tr("(file missing)"));
  parameters_->setPlainText(describe(*entry));
  Q_EMIT currentChanged(entry->path);
}

}  // namespace gesso::ui
