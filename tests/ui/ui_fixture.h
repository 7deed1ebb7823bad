// What the UI tests share: a temporary folder with a tiny random SD1 checkpoint (tests/support/pipeline_fixture.h),
// settings in an INI file there, and a MainWindow built on them. Needs the CLIP vocabulary from ../shared.
#pragma once

#include "generate/gallery_widget.h"
#include "generate/generate_tab.h"
#include "generate/prompt_editor.h"
#include "main_window.h"
#include "pipeline_fixture.h"
#include "settings/app_settings.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>

#include <memory>

namespace gesso::test {

class UiFixture {
 public:
  QTemporaryDir dir;
  QString models;
  QString outputs;
  QString store;
  QString model_path;
  std::string tokenizer = sharedTokenizerPath();
  std::unique_ptr<QSettings> settings;

  // Writes the checkpoint (once) and the settings; false when the tokenizer is absent (the caller skips).
  bool prepare(int preview_every = 1, const QString& language = "en") {
    if (tokenizer.empty()) return false;
    models = dir.filePath("models");
    outputs = dir.filePath("outputs");
    store = dir.filePath("appdata");
    QDir().mkpath(models);
    model_path = models + "/tiny_sd1.safetensors";
    if (!QFile::exists(model_path)) writeTinyCheckpoint(model_path.toStdString(), tinySd1Config());
    settings = std::make_unique<QSettings>(dir.filePath("settings.ini"), QSettings::IniFormat);
    ui::AppSettingsValues values;
    values.models_folder = models;
    values.outputs_folder = outputs;
    values.lora_folder = dir.filePath("lora");
    values.tokenizer_folder = QString::fromStdString(tokenizer);
    values.preview_every = preview_every;
    values.language = language;
    ui::AppSettings(settings.get()).save(values);
    return true;
  }

  std::unique_ptr<ui::MainWindow> makeWindow() {
    auto window = std::make_unique<ui::MainWindow>(settings.get(), store);
    window->resize(1100, 760);
    return window;
  }

  // A small fast job: 64×64, `steps` steps, fixed seed.
  static void setSmallJob(ui::GenerateTab& tab, int steps, int size = 64) {
    tab.findChild<QSpinBox*>("steps")->setValue(steps);
    tab.findChild<QSpinBox*>("width")->setValue(size);
    tab.findChild<QSpinBox*>("height")->setValue(size);
    tab.findChild<QLineEdit*>("seed")->setText("1234");
  }
};

// Measures how long the UI thread's event loop goes without running a 1 ms timer: the longest stall.
class StallMeter {
 public:
  StallMeter() {
    timer_.setInterval(1);
    QObject::connect(&timer_, &QTimer::timeout, [this] {
      const qint64 now = clock_.nsecsElapsed();
      if (last_ns_ >= 0) longest_ns_ = std::max(longest_ns_, now - last_ns_);
      last_ns_ = now;
      ++ticks_;
    });
  }
  void start() {
    clock_.start();
    last_ns_ = -1;
    longest_ns_ = 0;
    ticks_ = 0;
    timer_.start();
  }
  void stop() { timer_.stop(); }
  double longestMs() const { return longest_ns_ / 1e6; }
  int ticks() const { return ticks_; }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ns_ = -1;
  qint64 longest_ns_ = 0;
  int ticks_ = 0;
};

}  // namespace gesso::test
