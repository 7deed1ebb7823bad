// Colours A1111's prompt syntax in an editor: weights `(word:1.2)`, `(word)`, `[word]`, `BREAK` and extra-network
// tags `<lora:name:0.8>`.
#pragma once

#include <QSyntaxHighlighter>
#include <QTextCharFormat>

namespace gesso::ui {

class PromptHighlighter : public QSyntaxHighlighter {
  Q_OBJECT

 public:
  explicit PromptHighlighter(QTextDocument* document);

 protected:
  void highlightBlock(const QString& text) override;

 private:
  QTextCharFormat emphasis_;   // inside ( )
  QTextCharFormat deemphasis_; // inside [ ]
  QTextCharFormat weight_;     // the ":1.2" number
  QTextCharFormat break_;
  QTextCharFormat lora_;
};

}  // namespace gesso::ui
