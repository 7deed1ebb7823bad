// The fork settings dialog (see fork_dialog.h).
#include "compare/fork_dialog.h"

#include "gesso/diffusion/sampler.h"
#include "gesso/diffusion/schedulers.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QVBoxLayout>

namespace gesso::ui {

namespace {
void fillNames(QComboBox* box, const std::vector<std::string>& names, const std::string& current) {
  for (const auto& name : names) box->addItem(QString::fromStdString(name));
  box->setCurrentText(QString::fromStdString(current));
}
}  // namespace

ForkDialog::ForkDialog(const pipeline::GenerateRequest& parent_request, int step, QWidget* parent)
    : QDialog(parent), parent_request_(parent_request) {
  setWindowTitle(tr("Fork from step %1").arg(step));
  sampler_ = new QComboBox(this);
  fillNames(sampler_, diffusion::samplerNames(), parent_request.sampler);
  scheduler_ = new QComboBox(this);
  fillNames(scheduler_, diffusion::schedulerNames(), parent_request.scheduler);
  steps_ = new QSpinBox(this);
  steps_->setRange(1, 1000);
  steps_->setValue(parent_request.steps);
  steps_->setToolTip(tr("Steps of the new schedule; the fork runs the part below the cell's noise level at this step"));
  cfg_ = new QDoubleSpinBox(this);
  cfg_->setRange(0.0, 50.0);
  cfg_->setSingleStep(0.5);
  cfg_->setValue(parent_request.cfg_scale);
  prompt_ = new QPlainTextEdit(QString::fromStdString(parent_request.prompt), this);
  negative_ = new QPlainTextEdit(QString::fromStdString(parent_request.negative_prompt), this);
  prompt_->setMaximumHeight(80);
  negative_->setMaximumHeight(60);
  auto* form = new QFormLayout;
  form->addRow(tr("Sampler"), sampler_);
  form->addRow(tr("Scheduler"), scheduler_);
  form->addRow(tr("Steps"), steps_);
  form->addRow(tr("CFG scale"), cfg_);
  form->addRow(tr("Prompt"), prompt_);
  form->addRow(tr("Negative prompt"), negative_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
}

pipeline::GenerateRequest ForkDialog::request() const {
  pipeline::GenerateRequest request = parent_request_;
  request.sampler = sampler_->currentText().toStdString();
  request.scheduler = scheduler_->currentText().toStdString();
  request.steps = steps_->value();
  request.cfg_scale = cfg_->value();
  request.prompt = prompt_->toPlainText().toStdString();
  request.negative_prompt = negative_->toPlainText().toStdString();
  return request;
}

}  // namespace gesso::ui
