// The Models view in the main window (createModelsView).
#include "generate/generate_tab.h"
#include "main_window.h"
#include "models/models_view.h"

namespace gesso::ui {

QWidget* createModelsView(MainWindow& window) {
  auto* view = new ModelsView(window.worker());
  view->applySettings(window.settingsValues());
  QObject::connect(&window, &MainWindow::settingsChanged, view, &ModelsView::applySettings);
  QObject::connect(view, &ModelsView::modelChosen, &window, [&window](const QString& path, ModelKind kind) {
    if (kind != ModelKind::Checkpoint || !window.generateTab()) return;
    pipeline::GenerateRequest request = window.generateTab()->currentRequest();
    request.model = path.toStdString();
    window.openInGenerate(request);
  });
  return view;
}

}  // namespace gesso::ui
