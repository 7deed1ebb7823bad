// The Compare tab's cell widget (see compare_cell_view.h).
#include "compare/compare_cell_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QVBoxLayout>

namespace gesso::ui {

namespace {
constexpr int kImageSide = 192;  // shown size of a cell's image (previews are latent-sized, scaled up)
}

CompareCellView::CompareCellView(const QString& settings_label, QWidget* parent)
    : QFrame(parent), settings_label_(settings_label) {
  setFrameShape(QFrame::StyledPanel);
  image_ = new QLabel(this);
  image_->setFixedSize(kImageSide, kImageSide);
  image_->setAlignment(Qt::AlignCenter);
  image_->setStyleSheet("background: #202020;");
  caption_ = new QLabel(this);
  caption_->setWordWrap(true);
  caption_->setMaximumWidth(kImageSide);
  open_ = new QPushButton(tr("Open in Generate"), this);
  fork_ = new QPushButton(tr("Fork…"), this);
  open_->setToolTip(tr("Open this cell's settings in the Generate tab"));
  fork_->setToolTip(tr("Continue this cell from the shown step with other settings"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(open_);
  buttons->addWidget(fork_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(image_);
  layout->addWidget(caption_);
  layout->addLayout(buttons);
  connect(open_, &QPushButton::clicked, this, &CompareCellView::openRequested);
  connect(fork_, &QPushButton::clicked, this, [this] { Q_EMIT forkRequested(shown_step_); });
  setActionsEnabled(false, false);
  updateCaption();
}

void CompareCellView::addPreview(int step, const QImage& preview) {
  const bool live = shown_step_ <= 0 || shown_step_ == (previews_.isEmpty() ? 0 : previews_.lastKey());
  previews_.insert(step, preview);
  if (live && final_.isNull()) display(preview, step);
}

void CompareCellView::setFinal(const QImage& image) {
  final_ = image;
  display(image, total_steps_);
}

void CompareCellView::setTime(double ms) {
  ms_ = ms;
  updateCaption();
}

void CompareCellView::setActionsEnabled(bool open_enabled, bool fork_enabled) {
  open_->setEnabled(open_enabled);
  fork_->setEnabled(fork_enabled);
}

void CompareCellView::showStep(int step) {
  if (step <= 0 || (step >= total_steps_ && !final_.isNull())) {
    if (!final_.isNull()) display(final_, total_steps_);
    else if (!previews_.isEmpty()) display(previews_.last(), previews_.lastKey());
    return;
  }
  auto it = previews_.upperBound(step);  // the last preview at or before `step`
  if (it == previews_.begin()) return;
  --it;
  display(it.value(), it.key());
}

void CompareCellView::display(const QImage& image, int step) {
  shown_ = image;
  shown_step_ = step;
  image_->setPixmap(QPixmap::fromImage(image.scaled(kImageSide, kImageSide, Qt::KeepAspectRatio,
                                                    image.width() < kImageSide / 2 ? Qt::FastTransformation
                                                                                   : Qt::SmoothTransformation)));
  updateCaption();
}

void CompareCellView::updateCaption() {
  QString text = settings_label_;
  if (shown_step_ > 0) text += "\n" + tr("step %1 of %2").arg(shown_step_).arg(total_steps_);
  if (ms_ > 0) text += "\n" + tr("%1 s").arg(ms_ / 1000.0, 0, 'f', 2);
  caption_->setText(text);
}

}  // namespace gesso::ui
