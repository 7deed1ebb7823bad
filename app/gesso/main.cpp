// gesso: the desktop app. Sets up the application (names, icon, language from the settings) and shows the window.
#include "generate/generate_tab.h"
#include "main_window.h"
#include "settings/app_settings.h"
#include "settings/language.h"
#include "util/app_icon.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QTabWidget>
#include <QTimer>

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
  // For documentation and checks: render the window (optionally one tab) to a PNG and exit.
  QCommandLineOption screenshot("screenshot", QApplication::translate("main", "Save a picture of the window to FILE and quit"), "FILE");
  QCommandLineOption tab("tab", QApplication::translate("main", "Show this tab first (0 = Generate)"), "INDEX", "0");
  // After a crash or a kill the queue comes back "restored", waiting for Resume; this starts it at once instead.
  QCommandLineOption resume_queue("resume-queue", QApplication::translate("main", "Start the generations left queued by the last session at once"));
  parser.addOption(screenshot);
  parser.addOption(tab);
  parser.addOption(resume_queue);
  parser.process(app);

  gesso::ui::MainWindow window;
  window.resize(1280, 820);
  window.show();
  if (!parser.positionalArguments().isEmpty()) window.openPng(parser.positionalArguments().first());
  window.tabs()->setCurrentIndex(parser.value(tab).toInt());
  if (parser.isSet(resume_queue) && window.generateTab()) window.generateTab()->resumeRestored();
  if (parser.isSet(screenshot)) {
    const QString path = parser.value(screenshot);
    QTimer::singleShot(1500, &window, [&window, path] {
      const bool saved = window.grab().save(path);
      QApplication::exit(saved ? 0 : 1);
    });
  }
  return QApplication::exec();
}
