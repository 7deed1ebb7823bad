// The Generate tab (see generate_tab.h).
#include "generate/generate_tab.h"

#include "generate/gallery_widget.h"
#include "generate/image_canvas.h"
#include "generate/prompt_editor.h"
#include "gesso/diffusion/sampler.h"
#include "gesso/diffusion/schedulers.h"
#include "gesso/pipeline/output.h"
#include "gesso/pipeline/bundled_model.h"
#include "gesso/pipeline/pipeline.h"
#include "models/model_folders.h"
#include "util/app_icon.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QRegularExpressionValidator>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

namespace gesso::ui {
namespace {

const char* const kExamplePrompt = "a watercolor painting of a lighthouse on a cliff at sunset, (soft light:1.2), waves";
const char* const kExampleNegative = "blurry, low quality";

struct SizePreset {
  const char* family;
  int width;
  int height;
};
// The sizes each family was trained at (SDXL: the aspect buckets of its paper).
constexpr SizePreset kSizePresets[] = {
    {"SD 1.x", 512, 512},   {"SD 1.x", 512, 768},   {"SD 1.x", 768, 512},   {"SD 2.x", 768, 768},
    {"SD 2.x", 512, 512},   {"SD 2.x", 768, 1024},  {"SDXL", 1024, 1024},   {"SDXL", 896, 1152},
    {"SDXL", 1152, 896},    {"SDXL", 832, 1216},    {"SDXL", 1216, 832},    {"SDXL", 768, 1344},
    {"SDXL", 1344, 768},
};

// Pickle checkpoints (.ckpt) are not offered: they are never loaded; the Models view converts them into a
// .safetensors file beside them, which is listed here.
bool isModelFile(const QFileInfo& info) {
  return info.isFile() && info.suffix().toLower() == "safetensors";
}

QStringList fromStd(const std::vector<std::string>& names) {
  QStringList list;
  for (const std::string& name : names) list << QString::fromStdString(name);
  return list;
}

}  // namespace

GenerateTab::GenerateTab(EngineWorker& worker, JobStore& store, QWidget* parent)
    : QWidget(parent), worker_(worker), store_(store) {
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  auto* left = new QWidget(splitter);
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 0, 0);
  left_layout->addWidget(buildPromptPanel());
  auto* scroll = new QScrollArea(left);
  scroll->setWidgetResizable(true);
  scroll->setWidget(buildParameterPanel());
  left_layout->addWidget(scroll, 1);
  splitter->addWidget(left);
  splitter->addWidget(buildOutputPanel());
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(splitter);

  connectWorker();

  gallery_->setEntries(store_.loadHistory());
  restored_ = store_.loadQueue();
  refreshQueueView();
}

QWidget* GenerateTab::buildPromptPanel() {
  auto* panel = new QWidget(this);
  auto* form = new QVBoxLayout(panel);
  form->setContentsMargins(0, 0, 0, 0);

  prompt_ = new PromptEditor(panel);
  prompt_->setObjectName("prompt");
  prompt_->setPlaceholderText(tr("Prompt: (word:1.2) weighs a word, [word] lightens it, BREAK starts a new chunk, "
                                 "<lora:name:0.8> applies a LoRA"));
  prompt_->setPlainText(QString::fromUtf8(kExamplePrompt));
  prompt_count_ = new QLabel(panel);
  prompt_count_->setObjectName("promptTokenCount");
  prompt_->setCountLabel(prompt_count_);
  negative_ = new PromptEditor(panel);
  negative_->setObjectName("negativePrompt");
  negative_->setPlaceholderText(tr("Negative prompt"));
  negative_->setPlainText(QString::fromUtf8(kExampleNegative));
  negative_count_ = new QLabel(panel);
  negative_->setCountLabel(negative_count_);
  for (PromptEditor* editor : {prompt_, negative_}) editor->setMinimumHeight(60);
  prompt_->setMaximumHeight(150);  // the sampler controls below need the room
  negative_->setMaximumHeight(100);

  auto* prompt_header = new QHBoxLayout;
  prompt_header->addWidget(new QLabel(tr("Prompt"), panel));
  prompt_header->addStretch();
  prompt_header->addWidget(prompt_count_);
  auto* negative_header = new QHBoxLayout;
  negative_header->addWidget(new QLabel(tr("Negative prompt"), panel));
  negative_header->addStretch();
  negative_header->addWidget(negative_count_);
  form->addLayout(prompt_header);
  form->addWidget(prompt_, 2);
  form->addLayout(negative_header);
  form->addWidget(negative_, 1);

  generate_button_ = new QPushButton(tr("Generate"), panel);
  generate_button_->setObjectName("generateButton");
  generate_button_->setToolTip(tr("Generate (Ctrl+Enter)"));
  generate_button_->setDefault(true);
  cancel_button_ = new QPushButton(tr("Cancel"), panel);
  cancel_button_->setObjectName("cancelButton");
  cancel_button_->setToolTip(tr("Cancel (Esc)"));
  cancel_button_->setEnabled(false);
  connect(generate_button_, &QPushButton::clicked, this, &GenerateTab::generate);
  connect(cancel_button_, &QPushButton::clicked, this, &GenerateTab::cancel);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(generate_button_, 2);
  buttons->addWidget(cancel_button_, 1);
  form->addLayout(buttons);
  return panel;
}

QWidget* GenerateTab::buildParameterPanel() {
  auto* panel = new QWidget(this);
  auto* layout = new QVBoxLayout(panel);

  auto* models = new QGroupBox(tr("Model"), panel);
  auto* models_form = new QFormLayout(models);
  model_ = new QComboBox(models);
  model_->setObjectName("modelPicker");
  model_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  vae_ = new QComboBox(models);
  vae_->setObjectName("vaePicker");
  lora_ = new QComboBox(models);
  lora_->setObjectName("loraPicker");
  lora_->setToolTip(tr("Choose a LoRA to add its tag to the prompt"));
  models_form->addRow(tr("Checkpoint"), model_);
  models_form->addRow(tr("VAE"), vae_);
  models_form->addRow(tr("LoRA"), lora_);
  connect(lora_, qOverload<int>(&QComboBox::activated), this, [this](int index) {
    if (index <= 0) return;
    prompt_->moveCursor(QTextCursor::End);
    prompt_->insertPlainText(QStringLiteral(", <lora:%1:0.8>").arg(lora_->itemText(index)));
    lora_->setCurrentIndex(0);
  });
  connect(model_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { loadTokenizer(); });
  layout->addWidget(models);

  auto* sampling = new QGroupBox(tr("Sampling"), panel);
  auto* sampling_form = new QFormLayout(sampling);
  sampler_ = new QComboBox(sampling);
  sampler_->setObjectName("sampler");
  sampler_->addItems(fromStd(diffusion::samplerNames()));
  sampler_->setCurrentText("euler");
  scheduler_ = new QComboBox(sampling);
  scheduler_->setObjectName("scheduler");
  scheduler_->addItems(fromStd(diffusion::schedulerNames()));
  scheduler_->setCurrentText("normal");
  steps_ = new QSpinBox(sampling);
  steps_->setObjectName("steps");
  steps_->setRange(1, 500);
  steps_->setValue(20);
  cfg_ = new QDoubleSpinBox(sampling);
  cfg_->setObjectName("cfg");
  cfg_->setRange(0.0, 50.0);
  cfg_->setSingleStep(0.5);
  cfg_->setDecimals(2);
  cfg_->setValue(7.0);
  cfg_rescale_ = new QDoubleSpinBox(sampling);
  cfg_rescale_->setObjectName("cfgRescale");
  cfg_rescale_->setRange(0.0, 1.0);
  cfg_rescale_->setSingleStep(0.05);
  cfg_rescale_->setDecimals(2);

  seed_ = new QLineEdit("-1", sampling);
  seed_->setObjectName("seed");
  seed_->setValidator(new QRegularExpressionValidator(QRegularExpression("-1|\\d{1,18}"), seed_));
  seed_->setToolTip(tr("-1 picks a random seed"));
  auto* dice = new QToolButton(sampling);
  dice->setObjectName("randomSeed");
  dice->setIcon(diceIcon());
  dice->setToolTip(tr("Random seed (-1)"));
  connect(dice, &QToolButton::clicked, this, &GenerateTab::rollSeed);
  auto* reuse = new QToolButton(sampling);
  reuse->setObjectName("reuseSeed");
  reuse->setIcon(reuseIcon());
  reuse->setToolTip(tr("Reuse the last seed"));
  connect(reuse, &QToolButton::clicked, this, [this] {
    if (last_seed_ >= 0) seed_->setText(QString::number(last_seed_));
  });
  auto* seed_row = new QHBoxLayout;
  seed_row->addWidget(seed_, 1);
  seed_row->addWidget(dice);
  seed_row->addWidget(reuse);

  width_ = new QSpinBox(sampling);
  width_->setObjectName("width");
  height_ = new QSpinBox(sampling);
  height_->setObjectName("height");
  for (QSpinBox* side : {width_, height_}) {
    side->setRange(8, 4096);
    side->setSingleStep(8);
    side->setValue(512);
  }
  auto* size_row = new QHBoxLayout;
  size_row->addWidget(width_);
  size_row->addWidget(new QLabel(QStringLiteral("×"), sampling));
  size_row->addWidget(height_);
  size_preset_ = new QComboBox(sampling);
  size_preset_->addItem(tr("Presets…"));
  for (const SizePreset& preset : kSizePresets)
    size_preset_->addItem(QStringLiteral("%1  %2×%3").arg(QString::fromLatin1(preset.family)).arg(preset.width).arg(preset.height));
  connect(size_preset_, qOverload<int>(&QComboBox::activated), this, &GenerateTab::applySizePreset);
  size_row->addWidget(size_preset_);

  batch_size_ = new QSpinBox(sampling);
  batch_size_->setObjectName("batchSize");
  batch_size_->setRange(1, 16);
  batch_count_ = new QSpinBox(sampling);
  batch_count_->setObjectName("batchCount");
  batch_count_->setRange(1, 100);
  auto* batch_row = new QHBoxLayout;
  batch_row->addWidget(new QLabel(tr("size"), sampling));
  batch_row->addWidget(batch_size_);
  batch_row->addWidget(new QLabel(tr("count"), sampling));
  batch_row->addWidget(batch_count_);
  clip_skip_ = new QSpinBox(sampling);
  clip_skip_->setObjectName("clipSkip");
  clip_skip_->setRange(0, 12);
  clip_skip_->setSpecialValueText(tr("model default"));

  sampling_form->addRow(tr("Sampler"), sampler_);
  sampling_form->addRow(tr("Scheduler"), scheduler_);
  sampling_form->addRow(tr("Steps"), steps_);
  sampling_form->addRow(tr("CFG scale"), cfg_);
  sampling_form->addRow(tr("CFG rescale"), cfg_rescale_);
  sampling_form->addRow(tr("Seed"), seed_row);
  sampling_form->addRow(tr("Size"), size_row);
  sampling_form->addRow(tr("Batch"), batch_row);
  sampling_form->addRow(tr("Clip skip"), clip_skip_);
  layout->addWidget(sampling);

  img2img_ = new QGroupBox(tr("img2img / inpaint"), panel);
  img2img_->setObjectName("img2img");
  // Not checkable: a disabled canvas would refuse drops. A loaded image is what turns img2img on.
  img2img_->setToolTip(tr("Drop an image to run img2img; paint a mask to inpaint. Clear the image for txt2img."));
  auto* img2img_layout = new QVBoxLayout(img2img_);
  canvas_ = new ImageCanvas(img2img_);
  canvas_->setObjectName("canvas");
  img2img_layout->addWidget(canvas_, 1);
  auto* img2img_form = new QFormLayout;
  strength_ = new QDoubleSpinBox(img2img_);
  strength_->setObjectName("strength");
  strength_->setRange(0.0, 1.0);
  strength_->setSingleStep(0.05);
  strength_->setValue(0.75);
  brush_ = new QSpinBox(img2img_);
  brush_->setRange(1, 256);
  brush_->setValue(canvas_->brushRadius());
  brush_->setSuffix(tr(" px"));
  connect(brush_, qOverload<int>(&QSpinBox::valueChanged), canvas_, &ImageCanvas::setBrushRadius);
  auto* clear_mask = new QPushButton(tr("Clear mask"), img2img_);
  connect(clear_mask, &QPushButton::clicked, canvas_, &ImageCanvas::clearMask);
  auto* clear_image = new QPushButton(tr("Clear image"), img2img_);
  connect(clear_image, &QPushButton::clicked, canvas_, &ImageCanvas::clearImage);
  auto* clear_row = new QHBoxLayout;
  clear_row->addWidget(clear_mask);
  clear_row->addWidget(clear_image);
  img2img_form->addRow(tr("Denoising strength"), strength_);
  img2img_form->addRow(tr("Brush radius"), brush_);
  img2img_layout->addLayout(img2img_form);
  img2img_layout->addLayout(clear_row);
  layout->addWidget(img2img_);

  hires_ = new QGroupBox(tr("Hires fix"), panel);
  hires_->setObjectName("hires");
  hires_->setCheckable(true);
  hires_->setChecked(false);
  auto* hires_form = new QFormLayout(hires_);
  hires_scale_ = new QDoubleSpinBox(hires_);
  hires_scale_->setRange(1.0, 4.0);
  hires_scale_->setSingleStep(0.25);
  hires_scale_->setValue(1.5);
  hires_strength_ = new QDoubleSpinBox(hires_);
  hires_strength_->setRange(0.0, 1.0);
  hires_strength_->setSingleStep(0.05);
  hires_strength_->setValue(0.7);
  hires_steps_ = new QSpinBox(hires_);
  hires_steps_->setRange(0, 500);
  hires_steps_->setSpecialValueText(tr("same as steps"));
  hires_form->addRow(tr("Upscale by"), hires_scale_);
  hires_form->addRow(tr("Denoising strength"), hires_strength_);
  hires_form->addRow(tr("Hires steps"), hires_steps_);
  layout->addWidget(hires_);
  layout->addStretch();
  return panel;
}

QWidget* GenerateTab::buildOutputPanel() {
  auto* panel = new QWidget(this);
  auto* layout = new QVBoxLayout(panel);
  layout->setContentsMargins(0, 0, 0, 0);

  preview_ = new QLabel(tr("The preview appears here while an image is generated."), panel);
  preview_->setObjectName("preview");
  preview_->setAlignment(Qt::AlignCenter);
  preview_->setMinimumSize(256, 256);
  preview_->setFrameShape(QFrame::StyledPanel);
  progress_ = new QProgressBar(panel);
  progress_->setObjectName("progress");
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setFormat(QStringLiteral("%v / %m"));
  progress_text_ = new QLabel(panel);
  progress_text_->setObjectName("progressText");

  restored_bar_ = new QWidget(panel);
  auto* restored_layout = new QHBoxLayout(restored_bar_);
  restored_layout->setContentsMargins(0, 0, 0, 0);
  restored_text_ = new QLabel(restored_bar_);
  auto* resume = new QPushButton(tr("Resume"), restored_bar_);
  resume->setObjectName("resumeQueue");
  auto* discard = new QPushButton(tr("Discard"), restored_bar_);
  connect(resume, &QPushButton::clicked, this, &GenerateTab::resumeRestored);
  connect(discard, &QPushButton::clicked, this, &GenerateTab::discardRestored);
  restored_layout->addWidget(restored_text_, 1);
  restored_layout->addWidget(resume);
  restored_layout->addWidget(discard);

  queue_view_ = new QListWidget(panel);
  queue_view_->setObjectName("queue");
  queue_view_->setMaximumHeight(90);

  gallery_ = new GalleryWidget(panel);
  gallery_->setObjectName("gallery");
  connect(gallery_, &GalleryWidget::sendToImg2img, this, &GenerateTab::sendToImg2img);
  connect(gallery_, &GalleryWidget::reuseParameters, this, &GenerateTab::setRequest);

  auto* splitter = new QSplitter(Qt::Vertical, panel);
  splitter->addWidget(preview_);
  splitter->addWidget(gallery_);
  layout->addWidget(splitter, 1);
  layout->addWidget(progress_);
  layout->addWidget(progress_text_);
  layout->addWidget(restored_bar_);
  layout->addWidget(new QLabel(tr("Queue"), panel));
  layout->addWidget(queue_view_);
  return panel;
}

void GenerateTab::connectWorker() {
  connect(&worker_, &EngineWorker::jobStarted, this, [this](JobId id, const QString&) {
    if (!pending_.contains(id)) return;
    running_ = id;
    step_clock_pass_ = -1;
    progress_->setRange(0, 0);  // busy until the first step (model loading)
    progress_text_->setText(tr("Loading the model…"));
    refreshQueueView();
  });
  connect(&worker_, &EngineWorker::jobStep, this,
          [this](JobId id, int step, int total_steps, int pass, int batch_index, int batch_count) {
            if (id != running_) return;
            if (pass != step_clock_pass_ || step == 1) {
              step_clock_.start();
              step_clock_pass_ = pass;
            }
            progress_->setRange(0, total_steps);
            progress_->setValue(step);
            const double per_step_ms = step > 1 ? double(step_clock_.elapsed()) / (step - 1) : 0.0;
            const int eta_seconds = int(per_step_ms * (total_steps - step) / 1000.0 + 0.5);
            QString text = tr("Step %1/%2").arg(step).arg(total_steps);
            if (pass == 1) text += tr(" (hires)");
            if (batch_count > 1) text += tr(" · batch %1/%2").arg(batch_index + 1).arg(batch_count);
            if (step > 1) text += tr(" · ETA %1 s").arg(eta_seconds);
            progress_text_->setText(text);
          });
  connect(&worker_, &EngineWorker::jobPreview, this, [this](JobId id, int step, const QImage& preview) {
    if (id != running_) return;
    last_preview_step_ = step;
    const QSize target = preview_->size().boundedTo(QSize(512, 512));
    preview_->setPixmap(QPixmap::fromImage(preview).scaled(target, Qt::KeepAspectRatio, Qt::FastTransformation));
    Q_EMIT previewShown(step);
  });
  connect(&worker_, &EngineWorker::imageFinished, this,
          [this](JobId id, const QString& path, const pipeline::GenerateRequest& parameters) {
            if (!pending_.contains(id)) return;
            last_seed_ = parameters.seed;
            gallery_->addEntry(HistoryEntry{path, parameters, QDateTime::currentDateTime()});
            store_.saveHistory(gallery_->entries());
            const QPixmap pixmap(path);
            if (!pixmap.isNull())
              preview_->setPixmap(pixmap.scaled(preview_->size().boundedTo(QSize(512, 512)), Qt::KeepAspectRatio,
                                                Qt::SmoothTransformation));
            Q_EMIT imageAdded(path);
          });
  auto finish = [this](JobId id, const QString& message) {
    if (!pending_.contains(id)) return;
    pending_.remove(id);
    if (id == running_) running_ = 0;
    progress_->setRange(0, 1);
    progress_->setValue(pending_.isEmpty() ? 1 : 0);
    if (!message.isEmpty()) progress_text_->setText(message);
    persistQueue();
    refreshQueueView();
    if (pending_.isEmpty()) {
      cancel_button_->setEnabled(false);
      Q_EMIT busyChanged(false);
    }
  };
  connect(&worker_, &EngineWorker::jobFinished, this, [finish](JobId id) { finish(id, tr("Done.")); });
  connect(&worker_, &EngineWorker::jobCancelled, this, [finish](JobId id) { finish(id, tr("Cancelled.")); });
  connect(&worker_, &EngineWorker::jobFailed, this, [this, finish](JobId id, const QString& message) {
    if (!pending_.contains(id)) return;
    finish(id, tr("Failed: %1").arg(message));
    Q_EMIT statusMessage(tr("Generation failed: %1").arg(message));
  });
}

void GenerateTab::applySettings(const AppSettingsValues& settings) {
  const bool first_time = settings_.models_folder.isNull() && settings_.outputs_folder.isNull();
  settings_ = settings;
  rescanFolders();
  // First start on the bundled model: its own example prompt, ready to generate.
  if (first_time && model_->currentIndex() == 0 && model_->currentText().contains(QString::fromLatin1(pipeline::kBundledModelName)) &&
      prompt_->toPlainText() == QString::fromUtf8(kExamplePrompt)) {
    prompt_->setPlainText(QString::fromUtf8(pipeline::kBundledModelPrompt));
    negative_->clear();
    width_->setValue(pipeline::kBundledModelSize);
    height_->setValue(pipeline::kBundledModelSize);
  }
  loadTokenizer();
}

void GenerateTab::rescanFolders() {
  const QString current_model = model_->currentData().toString();
  const QString current_vae = vae_->currentData().toString();
  model_->blockSignals(true);
  model_->clear();
  if (const ModelChoice bundled = bundledModelChoice(); !bundled.path.isEmpty()) model_->addItem(bundled.label, bundled.path);
  vae_->clear();
  vae_->addItem(tr("(from the checkpoint)"), QString());
  QStringList loras;
  if (!settings_.models_folder.isEmpty()) {
    QDirIterator it(settings_.models_folder, QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    QStringList models;
    QStringList vaes;
    while (it.hasNext()) {
      const QFileInfo info(it.next());
      if (info.isDir() && QFile::exists(info.filePath() + "/model_index.json")) models << info.filePath();
      if (!isModelFile(info)) continue;
      const QString lower = info.filePath().toLower();
      if (!settings_.lora_folder.isEmpty() && info.filePath().startsWith(settings_.lora_folder)) continue;
      if (lower.contains("/vae/") || info.fileName().toLower().contains("vae")) vaes << info.filePath();
      else if (!lower.contains("/lora")) models << info.filePath();
    }
    models.sort();
    vaes.sort();
    for (const QString& path : models) model_->addItem(QFileInfo(path).fileName(), path);
    for (const QString& path : vaes) vae_->addItem(QFileInfo(path).fileName(), path);
  }
  if (!settings_.lora_folder.isEmpty()) {
    QDirIterator it(settings_.lora_folder, {"*.safetensors"}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) loras << QFileInfo(it.next()).completeBaseName();
    loras.sort();
  }
  lora_->clear();
  lora_->addItem(tr("(add a LoRA…)"));
  lora_->addItems(loras);
  prompt_->setLoraNames(loras);
  negative_->setLoraNames(loras);
  model_->blockSignals(false);
  if (!current_model.isEmpty()) selectModel(current_model);
  const int vae_index = vae_->findData(current_vae);
  if (vae_index >= 0) vae_->setCurrentIndex(vae_index);
}

void GenerateTab::selectModel(const QString& path) {
  int index = model_->findData(path);
  if (index < 0) {
    model_->addItem(QFileInfo(path).fileName(), path);
    index = model_->count() - 1;
  }
  model_->setCurrentIndex(index);
}

void GenerateTab::loadTokenizer() {
  // The vocabulary is read on the worker (it is a few MB of gzip) and handed back to the editors.
  const std::string explicit_path = settings_.tokenizer_folder.toStdString();
  const std::string model_path = model_->currentData().toString().toStdString();
  QString source;
  try {
    source = QString::fromStdString(pipeline::findTokenizer(explicit_path, model_path));
  } catch (const std::exception&) {
    return;  // no vocabulary anywhere: no counts (generation will say where it looked)
  }
  if (source == tokenizer_source_ && tokenizer_) return;
  tokenizer_source_ = source;
  QPointer<GenerateTab> self(this);
  worker_.submit("tokenizer", tr("Reading the tokenizer"), [self, source](JobContext& context) {
    auto tokenizer = std::make_shared<const models::ClipTokenizer>(models::ClipTokenizer::load(source.toStdString()));
    if (!self) return;
    context.post(self, [self, tokenizer] {
      if (!self) return;
      self->tokenizer_ = tokenizer;
      self->prompt_->setTokenizer(tokenizer);
      self->negative_->setTokenizer(tokenizer);
    });
  });
}

pipeline::GenerateRequest GenerateTab::currentRequest() {
  pipeline::GenerateRequest request;
  request.model = model_->currentData().toString().toStdString();
  request.vae = vae_->currentData().toString().toStdString();
  request.tokenizer = settings_.tokenizer_folder.toStdString();
  request.lora_dir = settings_.lora_folder.toStdString();  // where <lora:NAME:w> tags are looked up
  request.prompt = prompt_->toPlainText().toStdString();
  request.negative_prompt = negative_->toPlainText().toStdString();
  request.sampler = sampler_->currentText().toStdString();
  request.scheduler = scheduler_->currentText().toStdString();
  request.steps = steps_->value();
  request.cfg_scale = cfg_->value();
  request.cfg_rescale = cfg_rescale_->value();
  request.seed = seed_->text().toLongLong();
  request.width = width_->value();
  request.height = height_->value();
  request.batch_size = batch_size_->value();
  request.batch_count = batch_count_->value();
  request.clip_skip = clip_skip_->value();
  request.device = AppSettings::deviceName(settings_.device).toStdString();
  request.precision = AppSettings::precisionName(settings_.precision).toStdString();
  request.preview_every = settings_.preview_every;
  if (canvas_->hasImage()) {
    // The engine reads files: the canvas is written beside the queue, named by time so queued jobs keep theirs.
    const QString folder = store_.directory() + "/inputs";
    QDir().mkpath(folder);
    const QString stamp = QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss-zzz");
    const QString init_path = folder + "/init-" + stamp + ".png";
    if (canvas_->image().save(init_path)) request.init_image = init_path.toStdString();
    request.strength = strength_->value();
    if (canvas_->hasMask()) {
      const QString mask_path = folder + "/mask-" + stamp + ".png";
      if (canvas_->mask().save(mask_path)) request.mask = mask_path.toStdString();
    }
  }
  if (hires_->isChecked()) {
    request.hires_scale = hires_scale_->value();
    request.hires_strength = hires_strength_->value();
    request.hires_steps = hires_steps_->value();
  }
  return request;
}

void GenerateTab::setRequest(const pipeline::GenerateRequest& request) {
  if (!request.model.empty()) selectModel(QString::fromStdString(request.model));
  const int vae_index = vae_->findData(QString::fromStdString(request.vae));
  if (vae_index >= 0) vae_->setCurrentIndex(vae_index);
  else if (!request.vae.empty()) {
    vae_->addItem(QFileInfo(QString::fromStdString(request.vae)).fileName(), QString::fromStdString(request.vae));
    vae_->setCurrentIndex(vae_->count() - 1);
  }
  prompt_->setPlainText(QString::fromStdString(request.prompt));
  negative_->setPlainText(QString::fromStdString(request.negative_prompt));
  if (!request.sampler.empty()) sampler_->setCurrentText(QString::fromStdString(request.sampler));
  if (!request.scheduler.empty()) scheduler_->setCurrentText(QString::fromStdString(request.scheduler));
  steps_->setValue(request.steps);
  cfg_->setValue(request.cfg_scale);
  cfg_rescale_->setValue(request.cfg_rescale);
  seed_->setText(QString::number(request.seed));
  width_->setValue(request.width);
  height_->setValue(request.height);
  batch_size_->setValue(request.batch_size);
  batch_count_->setValue(request.batch_count);
  clip_skip_->setValue(request.clip_skip);
  strength_->setValue(request.strength);
  if (!request.init_image.empty()) {
    QImage init(QString::fromStdString(request.init_image));
    if (!init.isNull()) {
      canvas_->setImage(init);
      QImage mask(QString::fromStdString(request.mask));
      if (!mask.isNull()) {
        canvas_->setMask(mask);
      }
    }
  } else {
    canvas_->clearImage();
  }
  hires_->setChecked(request.hires_scale > 1.0);
  if (request.hires_scale > 1.0) {
    hires_scale_->setValue(request.hires_scale);
    hires_strength_->setValue(request.hires_strength);
    hires_steps_->setValue(request.hires_steps);
  }
}

bool GenerateTab::restoreFromPng(const QString& path, QString* error) {
  try {
    setRequest(pipeline::requestFromPng(path.toStdString()));
    Q_EMIT statusMessage(tr("Parameters restored from %1").arg(QFileInfo(path).fileName()));
    return true;
  } catch (const std::exception& exception) {
    const QString message = tr("%1 holds no generation parameters (%2)").arg(QFileInfo(path).fileName(),
                                                                              QString::fromUtf8(exception.what()));
    if (error) *error = message;
    Q_EMIT statusMessage(message);
    return false;
  }
}

void GenerateTab::sendToImg2img(const QString& path) {
  const QImage image(path);
  if (image.isNull()) return;
  canvas_->setImage(image);
  width_->setValue(image.width() / 8 * 8);
  height_->setValue(image.height() / 8 * 8);
}

void GenerateTab::generate() {
  QueuedGeneration job;
  job.request = currentRequest();
  job.output_directory = settings_.outputs_folder;
  if (job.request.model.empty()) {
    Q_EMIT statusMessage(tr("Choose a checkpoint first (Settings → Models folder)."));
    progress_text_->setText(tr("Choose a checkpoint first (Settings → Models folder)."));
    return;
  }
  try {
    pipeline::validateRequest(job.request);
  } catch (const std::exception& exception) {
    progress_text_->setText(tr("Invalid parameters: %1").arg(QString::fromUtf8(exception.what())));
    return;
  }
  submit(job);
}

void GenerateTab::submit(const QueuedGeneration& job) {
  // Recorded before the job can start, so the worker's first signal finds it.
  const bool was_idle = pending_.isEmpty();
  const JobId id = worker_.submitGenerate(job.request, job.output_directory);
  pending_.insert(id, job);
  persistQueue();
  refreshQueueView();
  cancel_button_->setEnabled(true);
  if (was_idle) Q_EMIT busyChanged(true);
}

void GenerateTab::cancel() {
  // Queued ones first, so the worker does not start the next one when the running one stops.
  const QList<JobId> ids = pending_.keys();
  for (JobId id : ids)
    if (id != running_) worker_.cancel(id);
  if (running_ != 0) worker_.cancel(running_);
  if (!restored_.isEmpty()) discardRestored();
}

void GenerateTab::resumeRestored() {
  const QList<QueuedGeneration> jobs = restored_;
  restored_.clear();
  for (const QueuedGeneration& job : jobs) submit(job);
  refreshQueueView();
}

void GenerateTab::discardRestored() {
  restored_.clear();
  persistQueue();
  refreshQueueView();
}

bool GenerateTab::saveSelectedImage(const QString& path) {
  const HistoryEntry* entry = gallery_->selected();
  if (!entry) return false;
  if (QFileInfo(path) == QFileInfo(entry->path)) return true;
  QFile::remove(path);
  return QFile::copy(entry->path, path);
}

void GenerateTab::persistQueue() {
  // Restored jobs not yet resumed stay on disk too: a second restart must not lose them.
  QList<QueuedGeneration> queue = restored_;
  for (auto it = pending_.cbegin(); it != pending_.cend(); ++it) queue.append(it.value());
  store_.saveQueue(queue);
}

void GenerateTab::refreshQueueView() {
  queue_view_->clear();
  for (auto it = pending_.cbegin(); it != pending_.cend(); ++it) {
    const QString prompt = QString::fromStdString(it.value().request.prompt).left(60);
    queue_view_->addItem((it.key() == running_ ? tr("Running: %1") : tr("Queued: %1")).arg(prompt));
  }
  for (const QueuedGeneration& job : restored_)
    queue_view_->addItem(tr("Restored: %1").arg(QString::fromStdString(job.request.prompt).left(60)));
  restored_bar_->setVisible(!restored_.isEmpty());
  restored_text_->setText(tr("%n job(s) from the last session are waiting.", nullptr, restored_.size()));
}

void GenerateTab::rollSeed() { seed_->setText("-1"); }

void GenerateTab::applySizePreset(int index) {
  if (index <= 0) return;
  const SizePreset& preset = kSizePresets[index - 1];
  width_->setValue(preset.width);
  height_->setValue(preset.height);
  size_preset_->setCurrentIndex(0);
}

}  // namespace gesso::ui
