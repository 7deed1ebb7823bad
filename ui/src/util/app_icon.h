// The application and window icon (resources/icons: PNG renderings of gesso.svg, since Qt's SVG plugin is optional).
#pragma once

#include <QIcon>

namespace gesso::ui {

QIcon appIcon();

}  // namespace gesso::ui
