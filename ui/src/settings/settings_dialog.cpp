// The settings dialog (see settings_dialog.h).
#include "settings/settings_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace gesso::ui {

SettingsDialog::SettingsDialog(const AppSettingsValues& values, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Settings"));
  auto* form = new QFormLayout;
  models_ = addFolderRow(form, tr("Models folder"), values.models_folder, false);
  outputs_ = addFolderRow(form, tr("Outputs folder"), values.outputs_folder, false);
  lora_ = addFolderRow(form, tr("LoRA folder"), values.lora_folder, false);
  tokenizer_ = addFolderRow(form, tr("Tokenizer (file or folder)"), values.tokenizer_folder, true);
  tokenizer_->setPlaceholderText(tr("automatic: beside the model, $GESSO_TOKENIZER, ~/.local/share/gesso/clip"));

  device_ = new QComboBox(this);
  device_->addItem(tr("CPU"), AppSettings::deviceName(Device::Cpu));
  device_->addItem(tr("CUDA (NVIDIA GPU)"), AppSettings::deviceName(Device::Cuda));
  device_->setCurrentIndex(device_->findData(AppSettings::deviceName(values.device)));
  precision_ = new QComboBox(this);
  precision_->addItem(tr("fp32 (full)"), AppSettings::precisionName(Precision::Fp32));
  precision_->addItem(tr("bf16"), AppSettings::precisionName(Precision::Bf16));
  precision_->addItem(tr("fp16 (CUDA only)"), AppSettings::precisionName(Precision::Fp16));
  precision_->setCurrentIndex(precision_->findData(AppSettings::precisionName(values.precision)));
  threads_ = new QSpinBox(this);
  threads_->setRange(0, 256);
  threads_->setSpecialValueText(tr("automatic"));
  threads_->setValue(values.threads);
  preview_every_ = new QSpinBox(this);
  preview_every_->setRange(0, 100);
  preview_every_->setSpecialValueText(tr("no preview"));
  preview_every_->setSuffix(tr(" steps"));
  preview_every_->setValue(values.preview_every);
  language_ = new QComboBox(this);
  language_->setObjectName("language");
  language_->addItem(tr("System language"), QString());
  language_->addItem(QStringLiteral("English"), QStringLiteral("en"));
  language_->addItem(QStringLiteral("한국어"), QStringLiteral("ko"));
  language_->setCurrentIndex(std::max(0, language_->findData(values.language)));

  form->addRow(tr("Device"), device_);
  form->addRow(tr("Precision"), precision_);
  form->addRow(tr("Threads"), threads_);
  form->addRow(tr("Preview every"), preview_every_);
  form->addRow(tr("Language"), language_);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
  resize(560, sizeHint().height());
}

QLineEdit* SettingsDialog::addFolderRow(QFormLayout* form, const QString& label, const QString& value,
                                        bool file_allowed) {
  auto* edit = new QLineEdit(value, this);
  auto* browse = new QPushButton(tr("Browse…"), this);
  connect(browse, &QPushButton::clicked, this, [this, edit, file_allowed, label] {
    const QString chosen = file_allowed
                               ? QFileDialog::getOpenFileName(this, label, edit->text(), tr("CLIP vocabulary (*.gz *.json)"))
                               : QFileDialog::getExistingDirectory(this, label, edit->text());
    if (!chosen.isEmpty()) edit->setText(chosen);
  });
  auto* row = new QHBoxLayout;
  row->addWidget(edit, 1);
  row->addWidget(browse);
  form->addRow(label, row);
  return edit;
}

AppSettingsValues SettingsDialog::values() const {
  AppSettingsValues values;
  values.models_folder = models_->text().trimmed();
  values.outputs_folder = outputs_->text().trimmed();
  values.lora_folder = lora_->text().trimmed();
  values.tokenizer_folder = tokenizer_->text().trimmed();
  values.device = AppSettings::deviceFromName(device_->currentData().toString());
  values.precision = AppSettings::precisionFromName(precision_->currentData().toString());
  values.threads = threads_->value();
  values.preview_every = preview_every_->value();
  values.language = language_->currentData().toString();
  return values;
}

}  // namespace gesso::ui
