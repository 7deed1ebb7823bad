// Conversions between engine images and QImage (see qt_image.h).
#include "util/qt_image.h"

#include <QPainter>

#include <cstring>

namespace gesso::ui {

QImage toQImage(const image::Image& image) {
  const QImage::Format format = image.channels == 4 ? QImage::Format_RGBA8888 : QImage::Format_RGB888;
  QImage result(static_cast<int>(image.width), static_cast<int>(image.height), format);
  const size_t row_bytes = static_cast<size_t>(image.width) * static_cast<size_t>(image.channels);
  for (int64_t y = 0; y < image.height; ++y)  // QImage rows are 4-byte aligned
    std::memcpy(result.scanLine(static_cast<int>(y)), image.data.data() + static_cast<size_t>(y) * row_bytes, row_bytes);
  return result;
}

image::Image fromQImage(const QImage& source, bool keep_alpha) {
  const bool alpha = keep_alpha && source.hasAlphaChannel();
  const QImage converted = source.convertToFormat(alpha ? QImage::Format_RGBA8888 : QImage::Format_RGB888);
  image::Image result = image::makeImage(converted.width(), converted.height(), alpha ? 4 : 3);
  const size_t row_bytes = static_cast<size_t>(result.width) * static_cast<size_t>(result.channels);
  for (int y = 0; y < converted.height(); ++y)
    std::memcpy(result.data.data() + static_cast<size_t>(y) * row_bytes, converted.constScanLine(y), row_bytes);
  return result;
}

QImage tileHorizontally(const std::vector<QImage>& images) {
  if (images.empty()) return {};
  if (images.size() == 1) return images.front();
  int width = 0;
  int height = 0;
  for (const QImage& image : images) {
    width += image.width();
    height = std::max(height, image.height());
  }
  QImage result(width, height, QImage::Format_RGB888);
  result.fill(Qt::black);
  QPainter painter(&result);
  int x = 0;
  for (const QImage& image : images) {
    painter.drawImage(x, 0, image);
    x += image.width();
  }
  return result;
}

}  // namespace gesso::ui
