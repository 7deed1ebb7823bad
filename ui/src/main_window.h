// The main window: tabs Generate / Compare / Train / Models around one EngineWorker, menus, shortcuts
// (Ctrl+Enter generate, Esc cancel, Ctrl+S save image), settings, and PNG drops that restore parameters.
#pragma once

#include "persistence/job_store.h"
#include "settings/app_settings.h"
#include "worker/engine_worker.h"

#include <QMainWindow>

#include <functional>
#include <memory>

class QTabWidget;

namespace gesso::ui {

class GenerateTab;
class MainWindow;

// Builds a tab for the window; called again when the language changes (the tab is rebuilt with new strings).
using TabFactory = std::function<QWidget*(MainWindow& window)>;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  // `settings` and `store` default to the user's (QSettings(), the app data folder); tests pass their own.
  explicit MainWindow(QSettings* settings = nullptr, const QString& store_directory = {}, QWidget* parent = nullptr);
  ~MainWindow() override;

  EngineWorker& worker() { return *worker_; }
  AppSettingsValues settingsValues() const { return settings_values_; }
  void applySettings(const AppSettingsValues& values);  // saves them, rescans folders, switches the language
  JobStore& store() { return store_; }
  GenerateTab* generateTab() const { return generate_; }
  QTabWidget* tabs() const { return tabs_; }

  // Puts the tab made by `factory` at `key` ("compare", "train", "models" replace their placeholders; another key
  // appends a tab). The factory gets this window (worker(), settingsValues(), openInGenerate()).
  void setTab(const QString& key, const QString& title, TabFactory factory);
  QWidget* tab(const QString& key) const;
  // Fills the Generate tab with `request` and shows it (used by Compare's "open in Generate", Train's "use in Generate").
  void openInGenerate(const pipeline::GenerateRequest& request);
  // Restores the parameters of a PNG into the Generate tab (what dropping it does). False when it has none.
  bool openPng(const QString& path, QString* error = nullptr);

 Q_SIGNALS:
  // After the settings dialog (or applySettings) changed them; tabs rescan folders on it.
  void settingsChanged(const gesso::ui::AppSettingsValues& values);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  struct TabSlot {
    QString key;
    QString title;
    TabFactory factory;
    QWidget* widget = nullptr;
  };

  void buildUi();  // menus, tabs (again after a language switch)
  void buildMenus();
  void showSettings();
  void saveImage();
  void retranslate();

  AppSettings settings_;
  AppSettingsValues settings_values_;
  JobStore store_;
  std::unique_ptr<EngineWorker> worker_;
  QTabWidget* tabs_ = nullptr;
  GenerateTab* generate_ = nullptr;
  QList<TabSlot> slots_;
  QString language_;
};

}  // namespace gesso::ui

Q_DECLARE_METATYPE(gesso::ui::AppSettingsValues)
