// The application and window icon (resources/icons: PNG renderings of gesso.svg, since Qt's SVG plugin is optional).
#pragma once

#include <QIcon>

namespace gesso::ui {

QIcon appIcon();
// A die (five pips), drawn: the "random seed" button (emoji fonts are not everywhere).
QIcon diceIcon();
// Two arrows in a circle: "reuse the last seed".
QIcon reuseIcon();

}  // namespace gesso::ui
