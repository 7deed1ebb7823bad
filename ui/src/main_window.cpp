// The main window (see main_window.h).
#include "main_window.h"

#include "generate/gallery_widget.h"
#include "generate/generate_tab.h"
#include "settings/language.h"
#include "settings/settings_dialog.h"
#include "util/app_icon.h"

#include "gesso/runtime.h"

// The Compare, Train and Models tabs live in their own folders; each provides a factory function when present.
#if __has_include("compare/compare_tab.h")
#include "compare/compare_tab.h"
#define GESSO_HAS_COMPARE_TAB 1
#endif
#if __has_include("train/train_tab.h")
#include "train/train_tab.h"
#define GESSO_HAS_TRAIN_TAB 1
#endif
#if __has_include("models/models_view.h")
#include "models/models_view.h"
#define GESSO_HAS_MODELS_VIEW 1
#endif

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QShortcut>
#include <QStatusBar>
#include <QTabWidget>

#include <ATen/Parallel.h>

namespace gesso::ui {
namespace {

QWidget* placeholder(const QString& text) {
  auto* label = new QLabel(text);
  label->setAlignment(Qt::AlignCenter);
  label->setWordWrap(true);
  return label;
}

}  // namespace

MainWindow::MainWindow(QSettings* settings, const QString& store_directory, QWidget* parent)
    : QMainWindow(parent), settings_(settings), store_(store_directory), worker_(std::make_unique<EngineWorker>()) {
  qRegisterMetaType<gesso::ui::AppSettingsValues>();
  settings_values_ = settings_.load();
  language_ = settings_values_.language;
  setWindowIcon(appIcon());
  setAcceptDrops(true);

  slots_ = {
      {"generate", {}, nullptr, nullptr},
#ifdef GESSO_HAS_COMPARE_TAB
      {"compare", {}, [](MainWindow& window) { return createCompareTab(window); }, nullptr},
#else
      {"compare", {}, nullptr, nullptr},
#endif
#ifdef GESSO_HAS_TRAIN_TAB
      {"train", {}, [](MainWindow& window) { return createTrainTab(window); }, nullptr},
#else
      {"train", {}, nullptr, nullptr},
#endif
#ifdef GESSO_HAS_MODELS_VIEW
      {"models", {}, [](MainWindow& window) { return createModelsView(window); }, nullptr},
#else
      {"models", {}, nullptr, nullptr},
#endif
  };
  buildUi();
  restoreGeometry(settings_.raw().value("window/geometry").toByteArray());
  // On the worker: LibTorch's thread count is per thread; OpenBLAS's is set with it (see configureThreads).
  const int threads = settings_values_.threads;
  worker_->submit("settings", tr("Applying settings"), [threads](JobContext&) { configureThreads(threads); });
}

MainWindow::~MainWindow() {
  // Tabs hold references to the worker: they go first, then the worker cancels and joins.
  delete tabs_;
  tabs_ = nullptr;
  if (worker_) worker_->cancelAll();
  worker_.reset();
}

void MainWindow::buildUi() {
  pipeline::GenerateRequest kept;
  int kept_tab = 0;
  const bool rebuilding = generate_ != nullptr;
  if (rebuilding) {
    kept = generate_->currentRequest();
    kept_tab = tabs_->currentIndex();
  }
  setWindowTitle(tr("Gesso"));
  menuBar()->clear();
  auto* old_tabs = tabs_;
  tabs_ = new QTabWidget(this);
  tabs_->setObjectName("tabs");
  generate_ = new GenerateTab(*worker_, store_, tabs_);
  generate_->setObjectName("generateTab");
  generate_->applySettings(settings_values_);
  connect(generate_, &GenerateTab::statusMessage, this, [this](const QString& message) {
    statusBar()->showMessage(message, 8000);
  });
  tabs_->addTab(generate_, tr("Generate"));
  const QMap<QString, QString> titles{{"compare", tr("Compare")}, {"train", tr("Train")}, {"models", tr("Models")}};
  const QMap<QString, QString> waiting{
      {"compare", tr("Compare samplers side by side: this tab is not built into this version yet.")},
      {"train", tr("Train a LoRA or a full model: this tab is not built into this version yet.")},
      {"models", tr("Checkpoints, VAEs and LoRAs in the models folder: this view is not built into this version yet.")}};
  for (TabSlot& slot : slots_) {
    if (slot.key == "generate") {
      slot.widget = generate_;
      continue;
    }
    slot.widget = slot.factory ? slot.factory(*this) : placeholder(waiting.value(slot.key));
    slot.widget->setObjectName(slot.key + "Tab");
    tabs_->addTab(slot.widget, slot.title.isEmpty() ? titles.value(slot.key, slot.key) : slot.title);
  }
  setCentralWidget(tabs_);  // deletes the old tab widget and its tabs
  Q_UNUSED(old_tabs);
  buildMenus();
  if (rebuilding) {
    generate_->setRequest(kept);
    tabs_->setCurrentIndex(kept_tab);
  }
  statusBar()->showMessage(tr("Ready"), 3000);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = file->addAction(tr("&Open image parameters…"));
  open->setShortcut(QKeySequence::Open);
  connect(open, &QAction::triggered, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a PNG with parameters"), QString(), tr("PNG images (*.png)"));
    if (!path.isEmpty()) openPng(path);
  });
  QAction* save = file->addAction(tr("&Save image as…"));
  save->setObjectName("saveImageAction");
  save->setShortcut(QKeySequence::Save);  // Ctrl+S
  connect(save, &QAction::triggered, this, &MainWindow::saveImage);
  file->addSeparator();
  QAction* settings = file->addAction(tr("Se&ttings…"));
  settings->setShortcut(QKeySequence::Preferences);
  settings->setMenuRole(QAction::PreferencesRole);
  connect(settings, &QAction::triggered, this, &MainWindow::showSettings);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"));
  quit->setShortcut(QKeySequence::Quit);
  quit->setMenuRole(QAction::QuitRole);
  connect(quit, &QAction::triggered, this, &QWidget::close);

  QMenu* generate = menuBar()->addMenu(tr("&Generate"));
  QAction* run = generate->addAction(tr("&Generate"));
  run->setObjectName("generateAction");
  run->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
  run->setShortcutContext(Qt::WindowShortcut);
  connect(run, &QAction::triggered, this, [this] {
    tabs_->setCurrentWidget(generate_);
    generate_->generate();
  });
  QAction* cancel = generate->addAction(tr("&Cancel"));
  cancel->setObjectName("cancelAction");
  cancel->setShortcut(QKeySequence(Qt::Key_Escape));
  cancel->setShortcutContext(Qt::WindowShortcut);
  connect(cancel, &QAction::triggered, this, [this] {
    generate_->cancel();
    worker_->cancel(worker_->runningJob());  // Esc stops whatever runs (a compare or a training job too)
  });
  // The menu actions carry the shortcuts; added to the window so they work with the menu bar hidden too.
  addAction(run);
  addAction(cancel);
  addAction(save);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  for (int i = 0; i < tabs_->count(); ++i) {
    QAction* show = view->addAction(tabs_->tabText(i));
    show->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
    connect(show, &QAction::triggered, this, [this, i] { tabs_->setCurrentIndex(i); });
  }

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* about = help->addAction(tr("&About Gesso"));
  connect(about, &QAction::triggered, this, [this] {
    QMessageBox::about(this, tr("About Gesso"),
                       tr("<b>Gesso %1</b><br>A native desktop studio for Stable Diffusion 1.x, 2.x and XL.")
                           .arg(QApplication::applicationVersion()));
  });
}

void MainWindow::setTab(const QString& key, const QString& title, TabFactory factory) {
  for (TabSlot& slot : slots_) {
    if (slot.key != key) continue;
    slot.title = title;
    slot.factory = std::move(factory);
    const int index = tabs_->indexOf(slot.widget);
    QWidget* old = slot.widget;
    slot.widget = slot.factory(*this);
    slot.widget->setObjectName(key + "Tab");
    tabs_->removeTab(index);
    tabs_->insertTab(index, slot.widget, title);
    delete old;
    return;
  }
  TabSlot slot{key, title, std::move(factory), nullptr};
  slot.widget = slot.factory(*this);
  slot.widget->setObjectName(key + "Tab");
  tabs_->addTab(slot.widget, title);
  slots_.append(slot);
}

QWidget* MainWindow::tab(const QString& key) const {
  for (const TabSlot& slot : slots_)
    if (slot.key == key) return slot.widget;
  return nullptr;
}

void MainWindow::openInGenerate(const pipeline::GenerateRequest& request) {
  generate_->setRequest(request);
  tabs_->setCurrentWidget(generate_);
}

bool MainWindow::openPng(const QString& path, QString* error) {
  QString message;
  const bool ok = generate_->restoreFromPng(path, &message);
  if (ok) tabs_->setCurrentWidget(generate_);
  else statusBar()->showMessage(message, 8000);
  if (error) *error = message;
  return ok;
}

void MainWindow::applySettings(const AppSettingsValues& values) {
  const bool language_changed = values.language != language_;
  const int old_threads = settings_values_.threads;
  settings_values_ = values;
  settings_.save(values);
  if (values.threads != old_threads) {
    const int threads = values.threads;
    worker_->submit("settings", tr("Applying settings"), [threads](JobContext&) { configureThreads(threads); });
  }
  if (language_changed) {
    language_ = values.language;
    installLanguage(language_);
    if (generate_->isBusy()) {
      statusBar()->showMessage(tr("The language changes when the running jobs are done or after a restart."), 8000);
    } else {
      retranslate();
      return;  // the rebuilt tabs read the new settings
    }
  }
  generate_->applySettings(values);
  Q_EMIT settingsChanged(values);
}

void MainWindow::retranslate() {
  buildUi();
  Q_EMIT settingsChanged(settings_values_);
}

void MainWindow::showSettings() {
  SettingsDialog dialog(settings_values_, this);
  if (dialog.exec() == QDialog::Accepted) applySettings(dialog.values());
}

void MainWindow::saveImage() {
  const HistoryEntry* entry = generate_->gallery()->selected();
  if (!entry) {
    statusBar()->showMessage(tr("No image selected."), 5000);
    return;
  }
  const QString path = QFileDialog::getSaveFileName(this, tr("Save image"), entry->path, tr("PNG images (*.png)"));
  if (path.isEmpty()) return;
  if (generate_->saveSelectedImage(path)) statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
  else QMessageBox::warning(this, tr("Save image"), tr("Could not write %1.").arg(path));
}

void MainWindow::closeEvent(QCloseEvent* event) {
  settings_.raw().setValue("window/geometry", saveGeometry());
  // Queued generations stay in queue.json (restored next time); the running job is cancelled and the worker
  // joins within one step when the window is destroyed.
  worker_->setPaused(true);
  worker_->cancel(worker_->runningJob());
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  const QMimeData* mime = event->mimeData();
  if (mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().first().toLocalFile().endsWith(".png", Qt::CaseInsensitive))
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty()) return;
  if (openPng(urls.first().toLocalFile())) event->acceptProposedAction();
}

}  // namespace gesso::ui
