// The settings of a fork: sampler, scheduler, steps, CFG and prompts, starting from the parent cell's own.
#pragma once

#include "gesso/pipeline/generate_request.h"

#include <QDialog>

class QComboBox;
class QDoubleSpinBox;
class QPlainTextEdit;
class QSpinBox;

namespace gesso::ui {

class ForkDialog : public QDialog {
  Q_OBJECT

 public:
  // `parent_request`: the cell's request; `step`: the 1-based step forked from (shown in the title).
  ForkDialog(const pipeline::GenerateRequest& parent_request, int step, QWidget* parent = nullptr);

  // The parent's request with the dialog's sampler, scheduler, steps, CFG and prompts.
  pipeline::GenerateRequest request() const;

  QComboBox* samplerBox() const { return sampler_; }
  QComboBox* schedulerBox() const { return scheduler_; }
  QSpinBox* stepsBox() const { return steps_; }
  QPlainTextEdit* promptEdit() const { return prompt_; }

 private:
  pipeline::GenerateRequest parent_request_;
  QComboBox* sampler_ = nullptr;
  QComboBox* scheduler_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QDoubleSpinBox* cfg_ = nullptr;
  QPlainTextEdit* prompt_ = nullptr;
  QPlainTextEdit* negative_ = nullptr;
};

}  // namespace gesso::ui
