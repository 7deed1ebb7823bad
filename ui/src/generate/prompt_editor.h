// A prompt editor: syntax colours, completion of LoRA names after "<lora:", and a live token count per 75-token
// window once a tokenizer is set.
#pragma once

#include "gesso/models/tokenizer.h"

#include <QPlainTextEdit>
#include <QStringList>
#include <QTimer>

#include <memory>

class QCompleter;
class QLabel;
class QStringListModel;

namespace gesso::ui {

class PromptHighlighter;

class PromptEditor : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit PromptEditor(QWidget* parent = nullptr);

  void setLoraNames(const QStringList& names);
  QStringList loraNames() const { return lora_names_; }
  void setTokenizer(std::shared_ptr<const models::ClipTokenizer> tokenizer);
  // The label that shows the count ("12/75", "75/75 · 3/75"); owned by the caller's layout.
  void setCountLabel(QLabel* label);
  // Prompt tokens per window, as the engine will pack them; empty without a tokenizer.
  QList<int> windowTokenCounts() const { return window_counts_; }
  QString prompt() const { return toPlainText(); }

  // Text that A1111's counter shows for these windows.
  static QString countText(const QList<int>& counts);

 Q_SIGNALS:
  void tokenCountChanged(const QList<int>& counts);

 protected:
  void keyPressEvent(QKeyEvent* event) override;

 private:
  void recount();
  void insertCompletion(const QString& name);
  QString loraPrefixAtCursor() const;  // the text typed after "<lora:" before the cursor, or null

  PromptHighlighter* highlighter_ = nullptr;
  QCompleter* completer_ = nullptr;
  QStringListModel* completion_model_ = nullptr;
  QStringList lora_names_;
  std::shared_ptr<const models::ClipTokenizer> tokenizer_;
  QLabel* count_label_ = nullptr;
  QTimer recount_timer_;
  QList<int> window_counts_;
};

}  // namespace gesso::ui
