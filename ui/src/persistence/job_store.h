// The generate queue and the image history on disk (the app data folder): JSON files written atomically with
// QSaveFile, so a crash or a kill leaves either the old or the new file, never half of one.
#pragma once

#include "gesso/pipeline/generate_request.h"
#include "util/metatypes.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace gesso::ui {

struct HistoryEntry {
  QString path;                          // the PNG written
  pipeline::GenerateRequest parameters;  // the request that reproduces it
  QDateTime finished;
};

struct QueuedGeneration {
  pipeline::GenerateRequest request;
  QString output_directory;
};

class JobStore {
 public:
  // `directory` defaults to QStandardPaths::AppDataLocation.
  explicit JobStore(QString directory = {});

  QString directory() const { return directory_; }
  QString historyPath() const;
  QString queuePath() const;

  // Unreadable or damaged files give empty lists (and a warning), never a failure to start.
  QList<HistoryEntry> loadHistory() const;
  QList<QueuedGeneration> loadQueue() const;
  // Return false (with a warning) when the file cannot be written.
  bool saveHistory(const QList<HistoryEntry>& history) const;
  bool saveQueue(const QList<QueuedGeneration>& queue) const;

 private:
  QString directory_;
};

}  // namespace gesso::ui
