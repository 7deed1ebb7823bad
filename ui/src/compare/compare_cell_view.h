// One cell of the Compare tab's grid: its image (live preview, the image at a scrubbed step, or the final image),
// a caption with its settings, step and time, and its actions (open in Generate, fork at the shown step).
#pragma once

#include <QFrame>
#include <QImage>
#include <QMap>
#include <QString>

class QLabel;
class QPushButton;

namespace gesso::ui {

class CompareCellView : public QFrame {
  Q_OBJECT

 public:
  explicit CompareCellView(const QString& settings_label, QWidget* parent = nullptr);

  void addPreview(int step, const QImage& preview);  // step 1-based
  void setFinal(const QImage& image);
  void setTime(double ms);
  void setTotalSteps(int steps) { total_steps_ = steps; }
  void setActionsEnabled(bool open_enabled, bool fork_enabled);
  // Shows the preview at `step` (1-based; the nearest earlier one kept, the final image past the last step);
  // step <= 0 shows the latest (live).
  void showStep(int step);

  QString settingsLabel() const { return settings_label_; }
  QList<int> previewSteps() const { return previews_.keys(); }
  QImage previewAt(int step) const { return previews_.value(step); }
  QImage finalImage() const { return final_; }
  QImage shownImage() const { return shown_; }
  int shownStep() const { return shown_step_; }  // 1-based; total_steps for the final image; 0: nothing yet
  double timeMs() const { return ms_; }

 Q_SIGNALS:
  void openRequested();
  void forkRequested(int step);  // 1-based, the step shown

 private:
  void display(const QImage& image, int step);
  void updateCaption();

  QString settings_label_;
  QLabel* image_ = nullptr;
  QLabel* caption_ = nullptr;
  QPushButton* open_ = nullptr;
  QPushButton* fork_ = nullptr;
  QMap<int, QImage> previews_;
  QImage final_;
  QImage shown_;
  int shown_step_ = 0;
  int total_steps_ = 0;
  double ms_ = 0;
};

}  // namespace gesso::ui
