// Prompt editor with colours, LoRA completion and a token counter (see prompt_editor.h).
#include "generate/prompt_editor.h"

#include "generate/prompt_highlighter.h"
#include "gesso/prompt/prompt_parser.h"
#include "gesso/prompt/token_windows.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QKeyEvent>
#include <QLabel>
#include <QScrollBar>
#include <QStringListModel>

namespace gesso::ui {
namespace {
const QString kLoraOpen = QStringLiteral("<lora:");
}

PromptEditor::PromptEditor(QWidget* parent) : QPlainTextEdit(parent) {
  highlighter_ = new PromptHighlighter(document());
  completion_model_ = new QStringListModel(this);
  completer_ = new QCompleter(completion_model_, this);
  completer_->setWidget(this);
  completer_->setCaseSensitivity(Qt::CaseInsensitive);
  completer_->setCompletionMode(QCompleter::PopupCompletion);
  connect(completer_, qOverload<const QString&>(&QCompleter::activated), this, &PromptEditor::insertCompletion);
  setTabChangesFocus(true);
  // Counting is cheap but not free on long prompts: at most once per 150 ms of typing.
  recount_timer_.setSingleShot(true);
  recount_timer_.setInterval(150);
  connect(&recount_timer_, &QTimer::timeout, this, &PromptEditor::recount);
  connect(this, &QPlainTextEdit::textChanged, &recount_timer_, qOverload<>(&QTimer::start));
}

void PromptEditor::setLoraNames(const QStringList& names) {
  lora_names_ = names;
  completion_model_->setStringList(names);
}

void PromptEditor::setTokenizer(std::shared_ptr<const models::ClipTokenizer> tokenizer) {
  tokenizer_ = std::move(tokenizer);
  recount();
}

void PromptEditor::setCountLabel(QLabel* label) {
  count_label_ = label;
  if (count_label_) count_label_->setText(countText(window_counts_));
}

QString PromptEditor::countText(const QList<int>& counts) {
  if (counts.isEmpty()) return QStringLiteral("–/75");
  QStringList parts;
  for (int count : counts) parts << QStringLiteral("%1/%2").arg(count).arg(prompt::kWindowPromptTokens);
  return parts.join(QStringLiteral(" · "));
}

void PromptEditor::recount() {
  QList<int> counts;
  if (tokenizer_) {
    try {
      const prompt::ParsedPrompt parsed = prompt::parsePrompt(toPlainText().toStdString());
      const auto tokenize = [this](const std::string& text) { return tokenizer_->encode(text); };
      // The vocabulary's own start/end ids: a model with its own vocabulary (the bundled one) has other ids than CLIP.
      prompt::WindowOptions options = prompt::WindowOptions::clip();
      options.start_id = tokenizer_->startOfText();
      options.end_id = tokenizer_->endOfText();
      options.pad_id = tokenizer_->endOfText();
      const prompt::TokenWindows windows = prompt::buildTokenWindows(parsed.parts, tokenize, options);
      for (const auto& ids : windows.ids) {
        int count = 0;
        for (int i = 1; i < prompt::kWindowLength && ids[static_cast<size_t>(i)] != tokenizer_->endOfText(); ++i) ++count;
        counts << count;
      }
    } catch (const std::exception&) {
      counts.clear();  // a prompt that does not parse (e.g. "(a:1.2.3)") shows no count; generate reports why
    }
  }
  window_counts_ = counts;
  if (count_label_) count_label_->setText(countText(counts));
  Q_EMIT tokenCountChanged(counts);
}

QString PromptEditor::loraPrefixAtCursor() const {
  QTextCursor cursor = textCursor();
  const QString before = toPlainText().left(cursor.position());
  const int open = before.lastIndexOf(kLoraOpen);
  if (open < 0) return {};
  const QString typed = before.mid(open + kLoraOpen.size());
  if (typed.contains('>') || typed.contains(':') || typed.contains(QChar::Space)) return {};
  return typed.isNull() ? QString("") : typed;
}

void PromptEditor::insertCompletion(const QString& name) {
  const QString typed = loraPrefixAtCursor();
  QTextCursor cursor = textCursor();
  cursor.movePosition(QTextCursor::Left, QTextCursor::KeepAnchor, typed.size());
  cursor.insertText(name + QStringLiteral(":1>"));
  // Select the strength so it can be typed over.
  cursor.movePosition(QTextCursor::Left, QTextCursor::MoveAnchor, 1);
  cursor.movePosition(QTextCursor::Left, QTextCursor::KeepAnchor, 1);
  setTextCursor(cursor);
}

void PromptEditor::keyPressEvent(QKeyEvent* event) {
  if (completer_->popup()->isVisible()) {
    switch (event->key()) {
      case Qt::Key_Enter:
      case Qt::Key_Return:
      case Qt::Key_Escape:
      case Qt::Key_Tab:
      case Qt::Key_Backtab:
        if (!(event->modifiers() & Qt::ControlModifier)) {
          event->ignore();  // the completer handles these
          return;
        }
        break;
      default: break;
    }
  }
  // Ctrl+Enter belongs to the window (Generate), not to a new line.
  if ((event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) && (event->modifiers() & Qt::ControlModifier)) {
    event->ignore();
    return;
  }
  QPlainTextEdit::keyPressEvent(event);
  const QString typed = loraPrefixAtCursor();
  if (typed.isNull() || lora_names_.isEmpty()) {
    completer_->popup()->hide();
    return;
  }
  completer_->setCompletionPrefix(typed);
  QRect rect = cursorRect();
  rect.setWidth(completer_->popup()->sizeHintForColumn(0) + completer_->popup()->verticalScrollBar()->sizeHint().width());
  completer_->complete(rect);
}

}  // namespace gesso::ui
