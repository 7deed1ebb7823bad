// The Train tab's dataset panel: a folder picker, the scan (on the worker: training::scanDataset, thumbnails), a
// thumbnail grid, the selected image's caption (editable, saved to NAME.txt), the skipped files and the buckets.
#pragma once

#include "gesso/training/dataset.h"
#include "worker/engine_worker.h"

#include <QImage>
#include <QWidget>

#include <vector>

class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace gesso::ui {

class DatasetPanel : public QWidget {
  Q_OBJECT

 public:
  explicit DatasetPanel(EngineWorker& worker, QWidget* parent = nullptr);

  QString folder() const;
  void setFolder(const QString& folder);
  void setResolution(int resolution, bool buckets);  // what the bucket report is computed for

  const training::DatasetScan& scan() const { return scan_; }
  QListWidget* thumbnails() const { return thumbnails_; }
  QPlainTextEdit* captionEdit() const { return caption_; }
  QTableWidget* skippedTable() const { return skipped_; }
  QTableWidget* bucketTable() const { return buckets_; }

 public Q_SLOTS:
  void rescan();
  void selectItem(int index);
  // Writes the caption editor's text to the selected image's NAME.txt (atomically); false with `error` otherwise.
  bool saveCaption(QString* error = nullptr);

 Q_SIGNALS:
  void scanned(int usable, int skipped);
  void scanFailed(const QString& message);

 private:
  EngineWorker& worker_;
  QLineEdit* folder_ = nullptr;
  QPushButton* browse_ = nullptr;
  QPushButton* scan_button_ = nullptr;
  QListWidget* thumbnails_ = nullptr;
  QPlainTextEdit* caption_ = nullptr;
  QPushButton* save_caption_ = nullptr;
  QLabel* caption_status_ = nullptr;
  QTableWidget* skipped_ = nullptr;
  QTableWidget* buckets_ = nullptr;
  QLabel* summary_ = nullptr;
  training::DatasetScan scan_;
  int resolution_ = 512;
  bool use_buckets_ = true;
  int selected_ = -1;
};

}  // namespace gesso::ui
