// The Train tab's chart (QCustomPlot): training loss raw and smoothed, validation loss and the learning rate (right
// axis) against the step. Points are buffered and the plot is redrawn on a timer, never once per point; the mouse
// wheel zooms, dragging pans, hovering shows the values under the cursor.
#pragma once

#include "gesso/training/metrics.h"

#include <QTimer>
#include <QWidget>

#include <vector>

class QCPGraph;
class QCustomPlot;
class QMouseEvent;

namespace gesso::ui {

class TrainChart : public QWidget {
  Q_OBJECT

 public:
  explicit TrainChart(QWidget* parent = nullptr);

  void clear();
  void addStep(const training::StepMetrics& metrics);
  void addValidation(const training::ValidationMetrics& metrics);
  // The step, validation records of a run (readMetrics), replacing what is shown.
  void setRecords(const std::vector<training::MetricsRecord>& records);

  QCustomPlot* plot() const { return plot_; }
  // Points drawn (after the next redraw) and points waiting for it.
  int lossPointCount() const;
  int smoothedPointCount() const;
  int validationPointCount() const;
  int learningRatePointCount() const;
  int redrawCount() const { return redraws_; }
  void redrawNow();  // flushes the buffer (the timer does this every redraw_interval_ms)
  // The hover text for a plot x position (pixels), as shown in the tooltip; empty without data.
  QString hoverText(double pixel_x) const;

  static constexpr int redraw_interval_ms = 250;

 private:
  void onMouseMove(QMouseEvent* event);

  QCustomPlot* plot_ = nullptr;
  QCPGraph* loss_ = nullptr;
  QCPGraph* smoothed_ = nullptr;
  QCPGraph* validation_ = nullptr;
  QCPGraph* lr_ = nullptr;
  QTimer timer_;
  std::vector<training::StepMetrics> pending_steps_;
  std::vector<training::ValidationMetrics> pending_validation_;
  bool user_moved_ = false;  // after a zoom or pan, new points no longer rescale the axes
  int redraws_ = 0;
};

}  // namespace gesso::ui
