// Queue and history files (see job_store.h).
#include "persistence/job_store.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>
#include <QtDebug>

namespace gesso::ui {
namespace {

// Requests are stored as the engine's own JSON text (exact doubles, unknown keys refused), inside our JSON.
QString requestText(const pipeline::GenerateRequest& request) {
  return QString::fromStdString(pipeline::requestToJson(request));
}

bool requestFrom(const QJsonValue& value, pipeline::GenerateRequest& request) {
  try {
    request = pipeline::requestFromJson(value.toString().toStdString());
    return true;
  } catch (const std::exception& error) {
    qWarning() << "gesso: skipping a stored request:" << error.what();
    return false;
  }
}

QJsonArray readArray(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  QJsonParseError error{};
  const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
  if (error.error != QJsonParseError::NoError || !document.isArray()) {
    qWarning() << "gesso:" << path << "is damaged:" << error.errorString();
    return {};
  }
  return document.array();
}

bool writeArray(const QString& path, const QJsonArray& array) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) {
    qWarning() << "gesso: cannot write" << path << file.errorString();
    return false;
  }
  file.write(QJsonDocument(array).toJson(QJsonDocument::Indented));
  if (!file.commit()) {
    qWarning() << "gesso: cannot write" << path << file.errorString();
    return false;
  }
  return true;
}

}  // namespace

JobStore::JobStore(QString directory) : directory_(std::move(directory)) {
  if (directory_.isEmpty()) directory_ = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

QString JobStore::historyPath() const { return directory_ + "/history.json"; }
QString JobStore::queuePath() const { return directory_ + "/queue.json"; }

QList<HistoryEntry> JobStore::loadHistory() const {
  QList<HistoryEntry> history;
  for (const QJsonValue& value : readArray(historyPath())) {
    const QJsonObject object = value.toObject();
    HistoryEntry entry;
    entry.path = object.value("path").toString();
    entry.finished = QDateTime::fromString(object.value("finished").toString(), Qt::ISODateWithMs);
    if (entry.path.isEmpty() || !requestFrom(object.value("parameters"), entry.parameters)) continue;
    history.append(entry);
  }
  return history;
}

QList<QueuedGeneration> JobStore::loadQueue() const {
  QList<QueuedGeneration> queue;
  for (const QJsonValue& value : readArray(queuePath())) {
    const QJsonObject object = value.toObject();
    QueuedGeneration job;
    job.output_directory = object.value("output_directory").toString();
    if (!requestFrom(object.value("request"), job.request)) continue;
    queue.append(job);
  }
  return queue;
}

bool JobStore::saveHistory(const QList<HistoryEntry>& history) const {
  QJsonArray array;
  for (const HistoryEntry& entry : history) {
    array.append(QJsonObject{{"path", entry.path},
                             {"finished", entry.finished.toString(Qt::ISODateWithMs)},
                             {"parameters", requestText(entry.parameters)}});
  }
  return writeArray(historyPath(), array);
}

bool JobStore::saveQueue(const QList<QueuedGeneration>& queue) const {
  QJsonArray array;
  for (const QueuedGeneration& job : queue)
    array.append(QJsonObject{{"output_directory", job.output_directory}, {"request", requestText(job.request)}});
  return writeArray(queuePath(), array);
}

}  // namespace gesso::ui
