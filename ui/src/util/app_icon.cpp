// The application icon (see app_icon.h).
#include "util/app_icon.h"

#include <QPainter>
#include <QPixmap>
#include <QPolygonF>

namespace gesso::ui {

QIcon appIcon() {
  QIcon icon;
  for (int size : {32, 64, 128, 256}) icon.addFile(QStringLiteral(":/icons/gesso-%1.png").arg(size), QSize(size, size));
  return icon;
}

QIcon diceIcon() {
  QPixmap pixmap(32, 32);
  pixmap.fill(Qt::transparent);
  QPainter painter(&pixmap);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setPen(QPen(QColor(0x3a, 0x3a, 0x46), 2));
  painter.setBrush(QColor(0xf4, 0xef, 0xe4));
  painter.drawRoundedRect(QRectF(3, 3, 26, 26), 6, 6);
  painter.setPen(Qt::NoPen);
  painter.setBrush(QColor(0x3a, 0x3a, 0x46));
  for (const QPointF& pip : {QPointF(10, 10), QPointF(22, 10), QPointF(16, 16), QPointF(10, 22), QPointF(22, 22)})
    painter.drawEllipse(pip, 2.6, 2.6);
  painter.end();
  return QIcon(pixmap);
}

QIcon reuseIcon() {
  QPixmap pixmap(32, 32);
  pixmap.fill(Qt::transparent);
  QPainter painter(&pixmap);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setPen(QPen(QColor(0x2f, 0x6f, 0xd6), 3, Qt::SolidLine, Qt::RoundCap));
  painter.drawArc(QRectF(6, 6, 20, 20), 30 * 16, 300 * 16);
  painter.setBrush(QColor(0x2f, 0x6f, 0xd6));
  painter.setPen(Qt::NoPen);
  painter.drawPolygon(QPolygonF({QPointF(26, 4), QPointF(27, 14), QPointF(18, 11)}));  // the arrow head
  painter.end();
  return QIcon(pixmap);
}

}  // namespace gesso::ui
