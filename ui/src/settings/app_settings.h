// The app's settings, typed, stored with QSettings (organisation "Gesso", application "gesso"); each accessor
// names its key and default once.
#pragma once

#include <QSettings>
#include <QString>

namespace gesso::ui {

enum class Device { Cpu, Cuda };
enum class Precision { Fp32, Bf16, Fp16 };

struct AppSettingsValues {
  QString models_folder;
  QString outputs_folder;
  QString lora_folder;
  QString tokenizer_folder;  // a bpe_simple_vocab_16e6.txt.gz file or a tokenizer folder; empty: findTokenizer's search
  Device device = Device::Cpu;
  Precision precision = Precision::Fp32;
  int threads = 0;           // 0: LibTorch's default
  int preview_every = 1;     // steps between previews; 0: none
  QString language;          // "" (system), "en" or "ko"
};

class AppSettings {
 public:
  // `settings` defaults to QSettings() (the application's organisation/name); tests pass an INI file.
  explicit AppSettings(QSettings* settings = nullptr);

  AppSettingsValues load() const;
  void save(const AppSettingsValues& values);

  static QString deviceName(Device device);        // "cpu", "cuda" (the engine's spelling)
  static QString precisionName(Precision precision);  // "fp32", "bf16", "fp16"
  static Device deviceFromName(const QString& name);
  static Precision precisionFromName(const QString& name);
  // The defaults: folders under the user's pictures / app data locations.
  static AppSettingsValues defaults();

  QSettings& raw() { return *settings_; }

 private:
  QSettings own_;
  QSettings* settings_ = nullptr;
};

}  // namespace gesso::ui
