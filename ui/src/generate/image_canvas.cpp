// Image + mask painting (see image_canvas.h).
#include "generate/image_canvas.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QMouseEvent>
#include <QPainter>

namespace gesso::ui {

ImageCanvas::ImageCanvas(QWidget* parent) : QWidget(parent) {
  setAcceptDrops(true);
  setMinimumSize(160, 160);
  setToolTip(tr("Drop an image here. Paint the area to repaint with the left button, erase with the right."));
}

void ImageCanvas::setImage(const QImage& image) {
  image_ = image.convertToFormat(QImage::Format_RGB888);
  mask_ = QImage(image_.size(), QImage::Format_Grayscale8);
  mask_.fill(Qt::black);
  mask_painted_ = false;
  update();
  Q_EMIT imageChanged();
  Q_EMIT maskChanged();
}

void ImageCanvas::clearMask() {
  if (!mask_.isNull()) mask_.fill(Qt::black);
  mask_painted_ = false;
  update();
  Q_EMIT maskChanged();
}

void ImageCanvas::setMask(const QImage& mask) {
  if (image_.isNull() || mask.isNull()) return;
  mask_ = mask.convertToFormat(QImage::Format_Grayscale8).scaled(image_.size());
  mask_painted_ = true;
  update();
  Q_EMIT maskChanged();
}

void ImageCanvas::clearImage() {
  image_ = QImage();
  mask_ = QImage();
  mask_painted_ = false;
  update();
  Q_EMIT imageChanged();
  Q_EMIT maskChanged();
}

void ImageCanvas::paintAt(const QPointF& point, bool erase) {
  if (image_.isNull()) return;
  QPainter painter(&mask_);
  painter.setRenderHint(QPainter::Antialiasing, false);  // a mask is binary
  painter.setPen(Qt::NoPen);
  painter.setBrush(erase ? Qt::black : Qt::white);
  painter.drawEllipse(point, brush_radius_pixels_, brush_radius_pixels_);
  painter.end();
  if (!erase) mask_painted_ = true;
  update();
  Q_EMIT maskChanged();
}

QRectF ImageCanvas::imageRect() const {
  if (image_.isNull()) return {};
  QSizeF size = image_.size();
  size.scale(this->size(), Qt::KeepAspectRatio);
  return QRectF(QPointF((width() - size.width()) / 2, (height() - size.height()) / 2), size);
}

QPointF ImageCanvas::toImage(const QPointF& point) const {
  const QRectF rect = imageRect();
  if (rect.isEmpty()) return {};
  return QPointF((point.x() - rect.left()) * image_.width() / rect.width(),
                 (point.y() - rect.top()) * image_.height() / rect.height());
}

void ImageCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().window().color().darker(110));
  if (image_.isNull()) {
    painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, tr("Drop an image for img2img / inpaint"));
    return;
  }
  const QRectF target = imageRect();
  painter.drawImage(target, image_);
  if (mask_painted_) {
    // The mask as a translucent red overlay.
    QImage overlay(mask_.size(), QImage::Format_ARGB32_Premultiplied);
    overlay.fill(Qt::transparent);
    QPainter overlay_painter(&overlay);
    overlay_painter.fillRect(overlay.rect(), QColor(255, 0, 0, 110));
    overlay_painter.setCompositionMode(QPainter::CompositionMode_DestinationIn);
    QImage alpha_argb(mask_.size(), QImage::Format_ARGB32_Premultiplied);
    for (int y = 0; y < mask_.height(); ++y) {
      const uchar* in = mask_.constScanLine(y);
      auto* out = reinterpret_cast<QRgb*>(alpha_argb.scanLine(y));
      for (int x = 0; x < mask_.width(); ++x) out[x] = qRgba(0, 0, 0, in[x]);
    }
    overlay_painter.drawImage(0, 0, alpha_argb);
    overlay_painter.end();
    painter.drawImage(target, overlay);
  }
}

void ImageCanvas::mousePressEvent(QMouseEvent* event) {
  paintAt(toImage(event->position()), event->buttons() & Qt::RightButton);
}

void ImageCanvas::mouseMoveEvent(QMouseEvent* event) {
  if (event->buttons() & (Qt::LeftButton | Qt::RightButton))
    paintAt(toImage(event->position()), event->buttons() & Qt::RightButton);
}

void ImageCanvas::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() || event->mimeData()->hasImage()) event->acceptProposedAction();
}

void ImageCanvas::dropEvent(QDropEvent* event) {
  const QMimeData* mime = event->mimeData();
  QImage dropped;
  if (mime->hasImage()) dropped = qvariant_cast<QImage>(mime->imageData());
  if (dropped.isNull() && mime->hasUrls() && !mime->urls().isEmpty()) dropped.load(mime->urls().first().toLocalFile());
  if (dropped.isNull()) return;
  setImage(dropped);
  event->acceptProposedAction();
}

}  // namespace gesso::ui
