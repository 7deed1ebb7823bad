// The worker thread: one loop that takes jobs from the queue and runs them with the engine (see engine_worker.h).
#include "worker/engine_worker.h"

#include "gesso/error.h"
#include "gesso/pipeline/output.h"
#include "gesso/pipeline/pipeline.h"
#include "util/qt_image.h"

#include <QMetaObject>
#include <QMutexLocker>

#include <random>

namespace gesso::ui {

void JobContext::post(QObject* receiver, std::function<void()> function) const {
  QMetaObject::invokeMethod(receiver, std::move(function), Qt::QueuedConnection);
}

void JobContext::progress(int step, int total_steps, const QString& text) const {
  Q_EMIT worker_.jobProgress(id_, step, total_steps, text);
}

EngineWorker::EngineWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<gesso::pipeline::GenerateRequest>();
  qRegisterMetaType<gesso::ui::JobId>("gesso::ui::JobId");
  thread_ = QThread::create([this] { run(); });
  thread_->setObjectName("gesso-engine");
  thread_->start();
}

EngineWorker::~EngineWorker() {
  {
    QMutexLocker lock(&mutex_);
    stopping_ = true;
    queue_.clear();
    if (running_.cancel) running_.cancel->cancel();
    wake_.wakeAll();
  }
  // The running job stops before its next network call; the wait is at most one step.
  thread_->wait();
  delete thread_;
}

JobId EngineWorker::submitGenerate(const pipeline::GenerateRequest& request, const QString& output_directory) {
  const QString description = QString::fromStdString(request.prompt).left(80);
  return submit("generate", description, [this, request, output_directory](JobContext& context) {
    runGenerate(context, request, output_directory);
  });
}

JobId EngineWorker::submit(const QString& kind, const QString& description, JobBody body) {
  JobId id = 0;
  {
    QMutexLocker lock(&mutex_);
    id = next_id_++;
    queue_.push_back(Job{id, kind, description, std::move(body), std::make_shared<CancelToken>()});
    wake_.wakeAll();
  }
  Q_EMIT jobQueued(id, kind, description);
  Q_EMIT queueChanged();
  return id;
}

void EngineWorker::cancel(JobId id) {
  bool removed = false;
  {
    QMutexLocker lock(&mutex_);
    if (running_.id == id && running_.cancel) {
      running_.cancel->cancel();
      return;
    }
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->id == id) {
        queue_.erase(it);
        removed = true;
        break;
      }
    }
  }
  if (removed) {
    Q_EMIT jobCancelled(id);
    Q_EMIT queueChanged();
  }
}

void EngineWorker::cancelAll() {
  std::deque<Job> dropped;
  {
    QMutexLocker lock(&mutex_);
    dropped.swap(queue_);
    if (running_.cancel) running_.cancel->cancel();
  }
  for (const Job& job : dropped) Q_EMIT jobCancelled(job.id);
  if (!dropped.empty()) Q_EMIT queueChanged();
}

void EngineWorker::setPaused(bool paused) {
  QMutexLocker lock(&mutex_);
  paused_ = paused;
  wake_.wakeAll();
}

bool EngineWorker::isPaused() const {
  QMutexLocker lock(&mutex_);
  return paused_;
}

JobId EngineWorker::runningJob() const {
  QMutexLocker lock(&mutex_);
  return running_.id;
}

QList<JobId> EngineWorker::queuedJobs() const {
  QMutexLocker lock(&mutex_);
  QList<JobId> ids;
  for (const Job& job : queue_) ids.append(job.id);
  return ids;
}

QString EngineWorker::describe(JobId id) const {
  QMutexLocker lock(&mutex_);
  if (running_.id == id) return running_.description;
  for (const Job& job : queue_)
    if (job.id == id) return job.description;
  return {};
}

void EngineWorker::run() {
  for (;;) {
    Job job;
    {
      QMutexLocker lock(&mutex_);
      while (!stopping_ && (queue_.empty() || paused_)) wake_.wait(&mutex_);
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      running_.id = job.id;
      running_.description = job.description;
      running_.cancel = job.cancel;
    }
    Q_EMIT queueChanged();
    Q_EMIT jobStarted(job.id, job.kind);

    JobContext context(*this, job.id, *job.cancel, models_);
    enum class Outcome { Finished, Cancelled, Failed } outcome = Outcome::Finished;
    QString message;
    try {
      job.body(context);
      if (job.cancel->isCancelled()) outcome = Outcome::Cancelled;
    } catch (...) {
      const Error error = errorFromCurrentException();
      outcome = error.code == ErrorCode::Cancelled ? Outcome::Cancelled : Outcome::Failed;
      message = QString::fromStdString(error.message());
    }
    {
      QMutexLocker lock(&mutex_);
      running_ = Job{};
    }
    switch (outcome) {
      case Outcome::Finished: Q_EMIT jobFinished(job.id); break;
      case Outcome::Cancelled: Q_EMIT jobCancelled(job.id); break;
      case Outcome::Failed: Q_EMIT jobFailed(job.id, message); break;
    }
    Q_EMIT queueChanged();
  }
}

void EngineWorker::runGenerate(JobContext& context, const pipeline::GenerateRequest& request,
                               const QString& output_directory) {
  pipeline::validateRequest(request);
  auto model = context.models().get(pipeline::ModelLoadOptions::fromRequest(request));

  // Batches run one by one so each batch's images reach the gallery as soon as they exist.
  int64_t seed = request.seed;
  if (seed < 0) seed = static_cast<int64_t>(std::random_device{}() & 0xffffffffu);
  const int batch_count = std::max(1, request.batch_count);
  const JobId id = context.id();
  for (int batch = 0; batch < batch_count; ++batch) {
    if (context.isCancelled()) fail(ErrorCode::Cancelled, "generation cancelled");
    pipeline::GenerateRequest one = request;
    one.seed = seed + batch;
    one.batch_count = 1;

    pipeline::GenerateCallbacks callbacks;
    callbacks.cancel = &context.cancelToken();
    callbacks.on_step = [this, id, batch, batch_count](const pipeline::StepEvent& event) {
      Q_EMIT jobStep(id, event.step + 1, event.total_steps, event.pass, batch, batch_count);
    };
    callbacks.on_preview = [this, id](const pipeline::PreviewEvent& event) {
      std::vector<QImage> images;
      for (const image::Image& image : event.images) images.push_back(toQImage(image));
      Q_EMIT jobPreview(id, event.step + 1, tileHorizontally(images));
    };
    const pipeline::GenerateResult result = pipeline::generate(*model, one, callbacks);
    const std::vector<std::string> paths = pipeline::writeResult(*model, result, output_directory.toStdString());
    for (size_t i = 0; i < paths.size(); ++i) {
      Q_EMIT imageFinished(id, QString::fromStdString(paths[i]),
                           pipeline::batchRequest(result.request, result.images[i].seed));
    }
  }
}

}  // namespace gesso::ui
