// UI language (see language.h).
#include "settings/language.h"

#include <QCoreApplication>
#include <QFile>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

namespace gesso::ui {
namespace {
QTranslator* g_app = nullptr;  // owned by the application object
QTranslator* g_qt = nullptr;
}

QString systemLanguage() {
  for (const QString& name : QLocale::system().uiLanguages()) {
    const QString language = name.section('-', 0, 0).section('_', 0, 0).toLower();
    if (language == "en" || QFile::exists(":/i18n/gesso_" + language + ".qm")) return language;
  }
  return "en";
}

bool installLanguage(const QString& requested) {
  const QString language = requested.isEmpty() ? systemLanguage() : requested;
  auto* app = QCoreApplication::instance();
  for (QTranslator** translator : {&g_app, &g_qt}) {
    if (*translator) {
      QCoreApplication::removeTranslator(*translator);
      delete *translator;
      *translator = nullptr;
    }
  }
  if (language == "en") return false;
  g_app = new QTranslator(app);
  if (!g_app->load(":/i18n/gesso_" + language + ".qm")) {
    delete g_app;
    g_app = nullptr;
    return false;
  }
  QCoreApplication::installTranslator(g_app);
  g_qt = new QTranslator(app);
  if (g_qt->load(QLocale(language), "qtbase", "_", QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
    QCoreApplication::installTranslator(g_qt);
  else {
    delete g_qt;
    g_qt = nullptr;
  }
  return true;
}

}  // namespace gesso::ui
