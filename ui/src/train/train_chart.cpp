// The training chart (see train_chart.h).
#include "train/train_chart.h"

#include <qcustomplot.h>

#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>

namespace gesso::ui {

TrainChart::TrainChart(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  plot_->setMinimumHeight(220);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
  plot_->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
  plot_->xAxis->setLabel(tr("Step"));
  plot_->yAxis->setLabel(tr("Loss"));
  plot_->yAxis2->setVisible(true);
  plot_->yAxis2->setLabel(tr("Learning rate"));
  plot_->legend->setVisible(true);

  loss_ = plot_->addGraph();
  loss_->setName(tr("Loss"));
  loss_->setPen(QPen(QColor(120, 160, 220, 140)));
  smoothed_ = plot_->addGraph();
  smoothed_->setName(tr("Loss (smoothed)"));
  smoothed_->setPen(QPen(QColor(30, 80, 200), 2));
  validation_ = plot_->addGraph();
  validation_->setName(tr("Validation loss"));
  validation_->setPen(QPen(QColor(220, 90, 30), 2));
  validation_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
  lr_ = plot_->addGraph(plot_->xAxis, plot_->yAxis2);
  lr_->setName(tr("Learning rate"));
  lr_->setPen(QPen(QColor(60, 160, 60), 1, Qt::DashLine));

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);

  timer_.setInterval(redraw_interval_ms);
  connect(&timer_, &QTimer::timeout, this, &TrainChart::redrawNow);
  timer_.start();
  connect(plot_, &QCustomPlot::mouseMove, this, &TrainChart::onMouseMove);
  connect(plot_, &QCustomPlot::mouseWheel, this, [this] { user_moved_ = true; });
  connect(plot_, &QCustomPlot::mousePress, this, [this] { user_moved_ = true; });
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this] {  // double-click: fit everything again
    user_moved_ = false;
    plot_->rescaleAxes();
    plot_->replot();
  });
}

void TrainChart::clear() {
  pending_steps_.clear();
  pending_validation_.clear();
  for (QCPGraph* graph : {loss_, smoothed_, validation_, lr_}) graph->data()->clear();
  user_moved_ = false;
  plot_->replot();
}

void TrainChart::addStep(const training::StepMetrics& metrics) { pending_steps_.push_back(metrics); }

void TrainChart::addValidation(const training::ValidationMetrics& metrics) { pending_validation_.push_back(metrics); }

void TrainChart::setRecords(const std::vector<training::MetricsRecord>& records) {
  clear();
  for (const auto& record : records) {
    if (record.type == "step") addStep(record.step);
    else if (record.type == "validation") addValidation(record.validation);
  }
  redrawNow();
}

void TrainChart::redrawNow() {
  if (pending_steps_.empty() && pending_validation_.empty()) return;
  for (const auto& step : pending_steps_) {
    const double x = static_cast<double>(step.step);
    if (std::isfinite(step.loss)) loss_->addData(x, step.loss);
    if (std::isfinite(step.smoothed_loss)) smoothed_->addData(x, step.smoothed_loss);
    lr_->addData(x, step.lr);
  }
  for (const auto& validation : pending_validation_) {
    if (std::isfinite(validation.loss)) validation_->addData(static_cast<double>(validation.step), validation.loss);
  }
  pending_steps_.clear();
  pending_validation_.clear();
  if (!user_moved_) {
    plot_->rescaleAxes();
    plot_->yAxis->scaleRange(1.1, plot_->yAxis->range().center());
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
  ++redraws_;
}

int TrainChart::lossPointCount() const { return loss_->dataCount(); }
int TrainChart::smoothedPointCount() const { return smoothed_->dataCount(); }
int TrainChart::validationPointCount() const { return validation_->dataCount(); }
int TrainChart::learningRatePointCount() const { return lr_->dataCount(); }

QString TrainChart::hoverText(double pixel_x) const {
  if (loss_->dataCount() == 0) return {};
  const double step = plot_->xAxis->pixelToCoord(pixel_x);
  auto nearest = [step](QCPGraph* graph, double* x, double* y) {
    if (graph->dataCount() == 0) return false;
    auto it = graph->data()->findBegin(step, true);
    auto best = it;
    if (it != graph->data()->constEnd() && std::next(it) != graph->data()->constEnd() &&
        std::abs(std::next(it)->key - step) < std::abs(it->key - step)) {
      best = std::next(it);
    }
    if (best == graph->data()->constEnd()) return false;
    *x = best->key;
    *y = best->value;
    return true;
  };
  double x = 0, loss = 0, smooth = 0, lr = 0;
  if (!nearest(loss_, &x, &loss)) return {};
  QString text = tr("step %1: loss %2").arg(x).arg(loss, 0, 'g', 4);
  double sx = 0;
  if (nearest(smoothed_, &sx, &smooth)) text += tr(", smoothed %1").arg(smooth, 0, 'g', 4);
  if (nearest(lr_, &sx, &lr)) text += tr(", lr %1").arg(lr, 0, 'g', 3);
  double vx = 0, validation = 0;
  if (nearest(validation_, &vx, &validation)) text += tr("\nvalidation at step %1: %2").arg(vx).arg(validation, 0, 'g', 4);
  return text;
}

void TrainChart::onMouseMove(QMouseEvent* event) {
  const QString text = hoverText(event->position().x());
  if (text.isEmpty()) QToolTip::hideText();
  else QToolTip::showText(event->globalPosition().toPoint(), text, plot_);
}

}  // namespace gesso::ui
