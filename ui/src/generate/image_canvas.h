// The img2img / inpaint source: drop (or open) an image, paint the repaint mask over it with a round brush
// (left button paints, right button erases), clear either.
#pragma once

#include <QImage>
#include <QWidget>

namespace gesso::ui {

class ImageCanvas : public QWidget {
  Q_OBJECT

 public:
  explicit ImageCanvas(QWidget* parent = nullptr);

  void setImage(const QImage& image);  // clears the mask
  QImage image() const { return image_; }
  // White = repaint, black = keep; same size as the image. Null when nothing was painted.
  QImage mask() const { return mask_painted_ ? mask_ : QImage(); }
  bool hasImage() const { return !image_.isNull(); }
  bool hasMask() const { return mask_painted_; }
  void setBrushRadius(int radius_pixels) { brush_radius_pixels_ = radius_pixels; }
  int brushRadius() const { return brush_radius_pixels_; }
  // Paints (or erases) a dab at image coordinates; what the mouse does, exposed for tests and scripts.
  void paintAt(const QPointF& image_point, bool erase = false);
  // A stored mask (white = repaint), scaled to the image.
  void setMask(const QImage& mask);
  void clearMask();
  void clearImage();

  QSize sizeHint() const override { return {256, 256}; }

 Q_SIGNALS:
  void imageChanged();
  void maskChanged();

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  QRectF imageRect() const;  // where the image is drawn, aspect kept
  QPointF toImage(const QPointF& widget_point) const;

  QImage image_;
  QImage mask_;
  bool mask_painted_ = false;
  int brush_radius_pixels_ = 16;
};

}  // namespace gesso::ui
