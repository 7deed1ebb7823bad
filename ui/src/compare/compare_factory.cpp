// The Compare tab in the main window (createCompareTab).
#include "compare/compare_tab.h"
#include "generate/generate_tab.h"
#include "main_window.h"

namespace gesso::ui {

QWidget* createCompareTab(MainWindow& window) {
  auto* tab = new CompareTab(window.worker());
  tab->applySettings(window.settingsValues());
  QObject::connect(&window, &MainWindow::settingsChanged, tab, &CompareTab::applySettings);
  QObject::connect(tab, &CompareTab::openInGenerate, &window, &MainWindow::openInGenerate);
  tab->setBaseRequestProvider([&window] {
    return window.generateTab() ? window.generateTab()->currentRequest() : pipeline::GenerateRequest{};
  });
  return tab;
}

}  // namespace gesso::ui
