// The settings dialog: folders, device, precision, threads, preview frequency and language.
#pragma once

#include "settings/app_settings.h"

#include <QDialog>

class QComboBox;
class QFormLayout;
class QLineEdit;
class QSpinBox;

namespace gesso::ui {

class SettingsDialog : public QDialog {
  Q_OBJECT

 public:
  explicit SettingsDialog(const AppSettingsValues& values, QWidget* parent = nullptr);
  AppSettingsValues values() const;

 private:
  QLineEdit* addFolderRow(QFormLayout* form, const QString& label, const QString& value, bool file_allowed);

  QLineEdit* models_ = nullptr;
  QLineEdit* outputs_ = nullptr;
  QLineEdit* lora_ = nullptr;
  QLineEdit* tokenizer_ = nullptr;
  QComboBox* device_ = nullptr;
  QComboBox* precision_ = nullptr;
  QSpinBox* threads_ = nullptr;
  QSpinBox* preview_every_ = nullptr;
  QComboBox* language_ = nullptr;
};

}  // namespace gesso::ui
