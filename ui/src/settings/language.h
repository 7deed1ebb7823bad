// Loading the UI language: the compiled translation (:/i18n/gesso_LANG.qm, built from translations/) plus Qt's own
// strings for that language when installed.
#pragma once

#include <QString>

class QCoreApplication;

namespace gesso::ui {

// Installs the translators for `language` ("ko", "en", or "" for the system language), replacing earlier ones.
// Returns true when a Gesso translation was loaded (English needs none and returns false).
bool installLanguage(const QString& language);
// The language that installLanguage("") picks: the first system UI language with a translation, else "en".
QString systemLanguage();

}  // namespace gesso::ui
