// The application icon (see app_icon.h).
#include "util/app_icon.h"

namespace gesso::ui {

QIcon appIcon() {
  QIcon icon;
  for (int size : {32, 64, 128, 256}) icon.addFile(QStringLiteral(":/icons/gesso-%1.png").arg(size), QSize(size, size));
  return icon;
}

}  // namespace gesso::ui
