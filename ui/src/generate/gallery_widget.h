// Results and history: thumbnails of every image generated (newest first), the selected image's parameters, and
// "send to img2img", "reuse parameters", "open folder".
#pragma once

#include "persistence/job_store.h"

#include <QList>
#include <QWidget>

class QLabel;
class QListWidget;
class QPushButton;
class QTextBrowser;

namespace gesso::ui {

class GalleryWidget : public QWidget {
  Q_OBJECT

 public:
  explicit GalleryWidget(QWidget* parent = nullptr);

  void setEntries(const QList<HistoryEntry>& entries);  // oldest first, as stored
  void addEntry(const HistoryEntry& entry);             // shown first and selected
  const QList<HistoryEntry>& entries() const { return entries_; }
  int count() const { return entries_.size(); }
  // The selected entry, or null.
  const HistoryEntry* selected() const;
  void select(int index_in_entries);

  // The parameters as shown (A1111-style lines).
  static QString describe(const HistoryEntry& entry);

 Q_SIGNALS:
  void sendToImg2img(const QString& path);
  void reuseParameters(const gesso::pipeline::GenerateRequest& parameters);
  void entriesChanged();
  void currentChanged(const QString& path);

 private:
  void showSelected();
  void addItem(const HistoryEntry& entry, int index);

  QList<HistoryEntry> entries_;
  QListWidget* list_ = nullptr;
  QLabel* image_ = nullptr;
  QTextBrowser* parameters_ = nullptr;
  QPushButton* send_ = nullptr;
  QPushButton* reuse_ = nullptr;
  QPushButton* open_folder_ = nullptr;
};

}  // namespace gesso::ui
