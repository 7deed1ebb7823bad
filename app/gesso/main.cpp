// gesso: the desktop app. Sets up the application (names, icon, language from the settings) and shows the window.
#include "main_window.h"
#include "settings/app_settings.h"
#include "settings/language.h"
#include "util/app_icon.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("Gesso");
  QApplication::setApplicationName("gesso");
  QApplication::setApplicationDisplayName("Gesso");
  QApplication::setApplicationVersion(GESSO_VERSION);
  QApplication::setWindowIcon(gesso::ui::appIcon());

  gesso::ui::installLanguage(gesso::ui::AppSettings().load().language);

  QCommandLineParser parser;
  parser.setApplicationDescription(QApplication::translate("main", "Gesso: a desktop studio for Stable Diffusion"));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument("png", QApplication::translate("main", "A PNG whose parameters to load"), "[png]");
  parser.process(app);

  gesso::ui::MainWindow window;
  window.resize(1280, 820);
  window.show();
  if (!parser.positionalArguments().isEmpty()) window.openPng(parser.positionalArguments().first());
  return QApplication::exec();
}
