// The one thread that owns the engine: a FIFO job queue, a cache of loaded models, and queued signals back to the
// UI. The UI posts jobs (submitGenerate, or submit() with any body) and never waits on the worker.
#pragma once

#include "gesso/cancel_token.h"
#include "gesso/pipeline/generate_request.h"
#include "util/metatypes.h"
#include "worker/model_cache.h"

#include <QImage>
#include <QMetaType>
#include <QMutex>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QWaitCondition>

#include <deque>
#include <functional>
#include <memory>

namespace gesso::ui {

using JobId = quint64;

class EngineWorker;

// What a job body sees on the worker thread.
class JobContext {
 public:
  JobContext(EngineWorker& worker, JobId id, const CancelToken& cancel, ModelCache& models)
      : worker_(worker), id_(id), cancel_(cancel), models_(models) {}

  JobId id() const { return id_; }
  // Set by cancel(id), cancelAll() or the worker's destruction. Pass it to the engine (GenerateCallbacks::cancel,
  // TrainCallbacks::cancel); a body that loops itself checks it between steps.
  const CancelToken& cancelToken() const { return cancel_; }
  bool isCancelled() const { return cancel_.isCancelled(); }
  // Loaded models, kept between jobs (keyed by ModelLoadOptions). Worker thread only.
  ModelCache& models() { return models_; }
  // Runs `function` on `receiver`'s thread (the UI thread for widgets) through its event loop; dropped if the
  // receiver is gone by then. The way for a job kind to deliver its own results.
  void post(QObject* receiver, std::function<void()> function) const;
  // Emits EngineWorker::jobProgress (queued to the UI): a generic progress report for any job kind.
  void progress(int step, int total_steps, const QString& text = {}) const;

 private:
  EngineWorker& worker_;
  JobId id_ = 0;
  const CancelToken& cancel_;
  ModelCache& models_;
};

class EngineWorker : public QObject {
  Q_OBJECT

 public:
  // A job's body; it runs on the worker thread. Throwing GessoError(Cancelled) (or returning after the token was
  // set) ends the job as cancelled; any other exception ends it as failed with the exception's message.
  using JobBody = std::function<void(JobContext&)>;

  explicit EngineWorker(QObject* parent = nullptr);
  // Cancels the running job, drops the queue and joins the thread (the running job stops at its next network call).
  ~EngineWorker() override;

  // Queues a generation: images are written to `output_directory` (pipeline::writeResult) and reported one by one
  // with imageFinished. Emits jobStep per sampler step and jobPreview every request.preview_every steps.
  JobId submitGenerate(const pipeline::GenerateRequest& request, const QString& output_directory);
  // Queues any other kind of job ("compare", "train", "load-model", ...). `kind` is shown in the queue view.
  JobId submit(const QString& kind, const QString& description, JobBody body);

  // A queued job is removed (jobCancelled is emitted for it); the running one gets its token set. Unknown ids are
  // ignored.
  void cancel(JobId id);
  void cancelAll();
  // A paused worker keeps its queue but starts no new job (the running one continues).
  void setPaused(bool paused);
  bool isPaused() const;

  JobId runningJob() const;  // 0 when idle
  QList<JobId> queuedJobs() const;
  QString describe(JobId id) const;

 Q_SIGNALS:
  void jobQueued(gesso::ui::JobId id, const QString& kind, const QString& description);
  void jobStarted(gesso::ui::JobId id, const QString& kind);
  // Generation: `step` is 1-based within the pass, `pass` 0 (first) or 1 (hires), of batch `batch_index`.
  void jobStep(gesso::ui::JobId id, int step, int total_steps, int pass, int batch_index, int batch_count);
  // The batch's latent previews side by side, at `step` (1-based).
  void jobPreview(gesso::ui::JobId id, int step, const QImage& preview);
  void imageFinished(gesso::ui::JobId id, const QString& path, const gesso::pipeline::GenerateRequest& parameters);
  // Generic progress for other job kinds (JobContext::progress).
  void jobProgress(gesso::ui::JobId id, int step, int total_steps, const QString& text);
  void jobFinished(gesso::ui::JobId id);
  void jobFailed(gesso::ui::JobId id, const QString& message);
  void jobCancelled(gesso::ui::JobId id);
  // Queue or running job changed (for queue views and persistence).
  void queueChanged();

 private:
  friend class JobContext;
  struct Job {
    JobId id = 0;
    QString kind;
    QString description;
    JobBody body;
    std::shared_ptr<CancelToken> cancel;
  };

  void run();  // the worker thread's loop
  void runGenerate(JobContext& context, const pipeline::GenerateRequest& request, const QString& output_directory);

  mutable QMutex mutex_;
  QWaitCondition wake_;
  std::deque<Job> queue_;
  Job running_;
  JobId next_id_ = 1;
  bool stopping_ = false;
  bool paused_ = false;
  ModelCache models_;  // touched only on the worker thread
  QThread* thread_ = nullptr;
};

}  // namespace gesso::ui
