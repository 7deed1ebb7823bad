// The Korean translation is compiled into the app, loads, and changes visible strings; switching the language in
// the settings rebuilds the window in the new language; every string of the .ts file is translated.
#include "ui_fixture.h"

#include "settings/language.h"

#include <QFile>
#include <QPushButton>
#include <QTabWidget>
#include <QTranslator>
#include <QXmlStreamReader>
#include <QtTest>

using namespace gesso;

class UiTranslationTest : public QObject {
  Q_OBJECT

  test::UiFixture fixture_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    if (!fixture_.prepare(1, "ko")) QSKIP("../shared/data/clip is absent");
  }

  void compiledTranslationIsComplete() {
    QTranslator translator;
    QVERIFY(translator.load(":/i18n/gesso_ko.qm"));
    QCOMPARE(translator.language(), QString("ko_KR"));
    QCOMPARE(translator.translate("gesso::ui::GenerateTab", "Generate"), QString::fromUtf8("생성"));
  }

  void windowShowsKoreanAndSwitchesBack() {
    QVERIFY(ui::installLanguage("ko"));
    auto window = fixture_.makeWindow();
    window->show();
    QCOMPARE(window->generateTab()->generateButton()->text(), QString::fromUtf8("생성"));
    QCOMPARE(window->tabs()->tabText(0), QString::fromUtf8("생성"));
    QCOMPARE(window->tabs()->tabText(2), QString::fromUtf8("학습"));
    window->generateTab()->promptEditor()->setPlainText("kept across the switch");

    ui::AppSettingsValues values = window->settingsValues();
    values.language = "en";
    window->applySettings(values);
    QCOMPARE(window->generateTab()->generateButton()->text(), QString("Generate"));
    QCOMPARE(window->tabs()->tabText(2), QString("Train"));
    QCOMPARE(window->generateTab()->promptEditor()->toPlainText(), QString("kept across the switch"));
    QCOMPARE(ui::AppSettings(fixture_.settings.get()).load().language, QString("en"));

    values.language = "ko";
    window->applySettings(values);
    QCOMPARE(window->generateTab()->generateButton()->text(), QString::fromUtf8("생성"));
    QVERIFY(ui::installLanguage("en") == false);
  }

  void tsFileHasNoUnfinishedEntries() {
    QFile file(QStringLiteral(GESSO_SOURCE_DIR "/translations/gesso_ko.ts"));
    if (!file.open(QIODevice::ReadOnly)) QSKIP("the source tree is not beside the build");
    QXmlStreamReader xml(&file);
    int messages = 0;
    QStringList unfinished;
    QString source;
    while (!xml.atEnd()) {
      xml.readNext();
      if (!xml.isStartElement()) continue;
      if (xml.name() == QLatin1String("source")) source = xml.readElementText();
      if (xml.name() == QLatin1String("translation")) {
        ++messages;
        const bool is_unfinished = xml.attributes().value("type") == QLatin1String("unfinished");
        const QString text = xml.readElementText(QXmlStreamReader::IncludeChildElements);
        if (is_unfinished || text.trimmed().isEmpty()) unfinished << source;
      }
    }
    qInfo("%d messages, %lld untranslated", messages, static_cast<long long>(unfinished.size()));
    QVERIFY2(unfinished.isEmpty(), qPrintable(unfinished.join(" | ")));
    QVERIFY(messages > 100);
  }
};

QTEST_MAIN(UiTranslationTest)
#include "test_ui_translation.moc"
