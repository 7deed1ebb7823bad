// The prompt editor: syntax colours at the right places, the token count per 75-token window as the engine packs
// it (checked against gesso::prompt directly), and LoRA names completed after "<lora:".
#include "ui_fixture.h"

#include "generate/prompt_highlighter.h"
#include "gesso/models/tokenizer.h"
#include "gesso/prompt/prompt_parser.h"
#include "gesso/prompt/token_windows.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QLabel>
#include <QTextBlock>
#include <QTextLayout>
#include <QtTest>

using namespace gesso;

namespace {

// The format the highlighter gave to the character at `position` of the first line.
QTextCharFormat formatAt(QTextDocument* document, int position) {
  const QTextBlock block = document->firstBlock();
  for (const QTextLayout::FormatRange& range : block.layout()->formats())
    if (position >= range.start && position < range.start + range.length) return range.format;
  return {};
}

}  // namespace

class UiPromptTest : public QObject {
  Q_OBJECT

  test::UiFixture fixture_;
  std::shared_ptr<const models::ClipTokenizer> tokenizer_;

 private slots:
  void initTestCase() {
    const std::string path = test::sharedTokenizerPath();
    if (!path.empty()) tokenizer_ = std::make_shared<const models::ClipTokenizer>(models::ClipTokenizer::load(path));
  }

  void highlighterMarksTheSyntax() {
    ui::PromptEditor editor;
    const QString text = "plain (red:1.2) [dim] BREAK <lora:style:0.8>";
    editor.setPlainText(text);
    QTextDocument* document = editor.document();
    QVERIFY(!formatAt(document, text.indexOf("plain")).foreground().color().isValid() ||
            formatAt(document, text.indexOf("plain")).foreground() == QBrush());
    const QColor red = formatAt(document, text.indexOf("red")).foreground().color();
    const QColor weight = formatAt(document, text.indexOf("1.2")).foreground().color();
    const QColor dim = formatAt(document, text.indexOf("dim")).foreground().color();
    const QColor brk = formatAt(document, text.indexOf("BREAK")).foreground().color();
    const QColor lora = formatAt(document, text.indexOf("lora")).foreground().color();
    QVERIFY(red.isValid() && weight.isValid() && dim.isValid() && brk.isValid() && lora.isValid());
    QVERIFY(red != weight && red != dim && brk != lora && dim != lora);
    QVERIFY(formatAt(document, text.indexOf("BREAK")).fontWeight() == QFont::Bold);
  }

  void countsTokensPerWindow_data() {
    QTest::addColumn<QString>("prompt");
    QTest::newRow("short") << "a photo of a cat";
    QTest::newRow("weights and lora") << "a (photo:1.3) of [a] cat <lora:style:0.5>";
    QTest::newRow("break") << "a cat BREAK a dog on a sofa";
    QTest::newRow("long") << QString("red fox, ").repeated(40);
    QTest::newRow("empty") << "";
  }

  void countsTokensPerWindow() {
    if (!tokenizer_) QSKIP("../shared/data/clip is absent");
    QFETCH(QString, prompt);
    ui::PromptEditor editor;
    QLabel label;
    editor.setCountLabel(&label);
    editor.setTokenizer(tokenizer_);
    QSignalSpy counted(&editor, &ui::PromptEditor::tokenCountChanged);
    editor.setPlainText(prompt);
    QVERIFY(counted.wait(2000));

    // Expected: the engine's packing, counted independently (ids before the first end token of each window).
    const auto parsed = prompt::parsePrompt(prompt.toStdString());
    const auto windows = prompt::buildTokenWindows(
        parsed.parts, [this](const std::string& text) { return tokenizer_->encode(text); });
    QList<int> expected;
    int total = 0;
    for (const auto& ids : windows.ids) {
      const auto end = std::find(ids.begin() + 1, ids.end(), tokenizer_->endOfText());
      expected << int(end - ids.begin() - 1);
      total += expected.last();
    }
    QCOMPARE(editor.windowTokenCounts(), expected);
    qInfo("%s -> %s", qPrintable(prompt.left(30)), qPrintable(label.text()));
    QCOMPARE(label.text(), ui::PromptEditor::countText(expected));
    if (prompt == "a photo of a cat") QCOMPARE(expected, QList<int>{5});
    if (prompt.startsWith("a cat BREAK")) QCOMPARE(expected.size(), 2);
    if (prompt.startsWith("red fox")) QVERIFY(expected.size() >= 2 && total == 40 * 3);
  }

  void completesLoraNames() {
    ui::PromptEditor editor;
    editor.setLoraNames({"papercut", "pixel_art", "watercolor"});
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    editor.setFocus();
    QTest::keyClicks(&editor, "a fox <lora:pi");
    QCompleter* completer = editor.findChild<QCompleter*>();
    QVERIFY(completer);
    QCOMPARE(completer->completionPrefix(), QString("pi"));
    QCOMPARE(completer->completionCount(), 1);
    QCOMPARE(completer->currentCompletion(), QString("pixel_art"));
    // Choosing it writes the tag with a strength to edit.
    QMetaObject::invokeMethod(completer, "activated", Q_ARG(QString, "pixel_art"));
    QCOMPARE(editor.toPlainText(), QString("a fox <lora:pixel_art:1>"));
    QCOMPARE(editor.textCursor().selectedText(), QString("1"));
  }
};

QTEST_MAIN(UiPromptTest)
#include "test_ui_prompt.moc"
