// Conversions between the engine's 8-bit images and QImage (copies; the UI never shares engine buffers).
#pragma once

#include "gesso/image/image.h"

#include <QImage>

#include <vector>

namespace gesso::ui {

QImage toQImage(const image::Image& image);
// RGB888 (or RGBA8888 when the image has alpha and `keep_alpha`).
image::Image fromQImage(const QImage& image, bool keep_alpha = false);
// Images placed side by side, top-aligned (a batch preview).
QImage tileHorizontally(const std::vector<QImage>& images);

}  // namespace gesso::ui
