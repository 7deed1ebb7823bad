// Typed settings over QSettings (see app_settings.h).
#include "settings/app_settings.h"

#include <QDir>
#include <QStandardPaths>

namespace gesso::ui {

AppSettings::AppSettings(QSettings* settings) : settings_(settings ? settings : &own_) {}

AppSettingsValues AppSettings::defaults() {
  AppSettingsValues values;
  const QString data = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
  if (pictures.isEmpty()) pictures = QDir::homePath();
  values.models_folder = data + "/models";
  values.lora_folder = data + "/models/lora";
  values.outputs_folder = pictures + "/gesso";
  return values;
}

QString AppSettings::deviceName(Device device) { return device == Device::Cuda ? "cuda" : "cpu"; }

QString AppSettings::precisionName(Precision precision) {
  switch (precision) {
    case Precision::Bf16: return "bf16";
    case Precision::Fp16: return "fp16";
    case Precision::Fp32: break;
  }
  return "fp32";
}

Device AppSettings::deviceFromName(const QString& name) { return name == "cuda" ? Device::Cuda : Device::Cpu; }

Precision AppSettings::precisionFromName(const QString& name) {
  if (name == "bf16") return Precision::Bf16;
  if (name == "fp16") return Precision::Fp16;
  return Precision::Fp32;
}

AppSettingsValues AppSettings::load() const {
  const AppSettingsValues d = defaults();
  AppSettingsValues values;
  QSettings& s = *settings_;
  values.models_folder = s.value("paths/models", d.models_folder).toString();
  values.outputs_folder = s.value("paths/outputs", d.outputs_folder).toString();
  values.lora_folder = s.value("paths/lora", d.lora_folder).toString();
  values.tokenizer_folder = s.value("paths/tokenizer", d.tokenizer_folder).toString();
  values.device = deviceFromName(s.value("engine/device", deviceName(d.device)).toString());
  values.precision = precisionFromName(s.value("engine/precision", precisionName(d.precision)).toString());
  values.threads = qBound(0, s.value("engine/threads", d.threads).toInt(), 1024);
  values.preview_every = qBound(0, s.value("ui/preview_every", d.preview_every).toInt(), 1000);
  values.language = s.value("ui/language", d.language).toString();
  return values;
}

void AppSettings::save(const AppSettingsValues& values) {
  QSettings& s = *settings_;
  s.setValue("paths/models", values.models_folder);
  s.setValue("paths/outputs", values.outputs_folder);
  s.setValue("paths/lora", values.lora_folder);
  s.setValue("paths/tokenizer", values.tokenizer_folder);
  s.setValue("engine/device", deviceName(values.device));
  s.setValue("engine/precision", precisionName(values.precision));
  s.setValue("engine/threads", values.threads);
  s.setValue("ui/preview_every", values.preview_every);
  s.setValue("ui/language", values.language);
  s.sync();
}

}  // namespace gesso::ui
