// Prompt syntax colours (see prompt_highlighter.h).
#include "generate/prompt_highlighter.h"

#include <QRegularExpression>

namespace gesso::ui {

PromptHighlighter::PromptHighlighter(QTextDocument* document) : QSyntaxHighlighter(document) {
  emphasis_.setForeground(QColor(0x1f, 0x6f, 0xd1));
  deemphasis_.setForeground(QColor(0x8a, 0x8a, 0x8a));
  weight_.setForeground(QColor(0xc2, 0x4e, 0x00));
  weight_.setFontWeight(QFont::Bold);
  break_.setForeground(QColor(0xb0, 0x1f, 0x8f));
  break_.setFontWeight(QFont::Bold);
  lora_.setForeground(QColor(0x1a, 0x8a, 0x3a));
  lora_.setFontItalic(true);
}

void PromptHighlighter::highlightBlock(const QString& text) {
  // Bracket depth per character (escaped brackets are literal, as in the parser); each line on its own.
  int round = 0;
  int square = 0;
  for (int i = 0; i < text.size(); ++i) {
    const QChar c = text[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '(') ++round;
    if (c == '[') ++square;
    if (round > 0) setFormat(i, 1, emphasis_);
    else if (square > 0) setFormat(i, 1, deemphasis_);
    if (c == ')' && round > 0) --round;
    if (c == ']' && square > 0) --square;
  }
  static const QRegularExpression weight(R"(:\s*[-+]?(\d+\.?\d*|\.\d+)\s*(?=\)))");
  for (auto it = weight.globalMatch(text); it.hasNext();) {
    const auto match = it.next();
    setFormat(match.capturedStart(), match.capturedLength(), weight_);
  }
  static const QRegularExpression breaks(R"(\bBREAK\b)");
  for (auto it = breaks.globalMatch(text); it.hasNext();) {
    const auto match = it.next();
    setFormat(match.capturedStart(), match.capturedLength(), break_);
  }
  static const QRegularExpression tags(R"(<\w+:[^>]+>)");
  for (auto it = tags.globalMatch(text); it.hasNext();) {
    const auto match = it.next();
    setFormat(match.capturedStart(), match.capturedLength(), lora_);
  }
}

}  // namespace gesso::ui
