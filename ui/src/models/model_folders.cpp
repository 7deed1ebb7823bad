// Model folder scanning and classification (see model_folders.h).
#include "models/model_folders.h"

#include "gesso/error.h"
#include "gesso/io/checkpoint.h"
#include "gesso/io/convert.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/model_config.h"
#include "gesso/models/model_config_files.h"
#include "gesso/pipeline/bundled_model.h"
#include "gesso/util/sha256.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QSet>

#include <algorithm>

namespace gesso::ui {

namespace {

bool startsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

bool isLoraKey(const std::string& name) {
  return startsWith(name, "lora_unet_") || startsWith(name, "lora_te") || name.find(".lora_down.") != std::string::npos ||
         name.find(".lora_up.") != std::string::npos || name.find(".lora_A.") != std::string::npos ||
         name.find(".lora_B.") != std::string::npos;
}

bool isCheckpointKey(const std::string& name) {
  return startsWith(name, "model.diffusion_model.") || startsWith(name, "conditioner.embedders.");
}

bool isVaeKey(const std::string& name) {
  return startsWith(name, "encoder.conv_in.") || startsWith(name, "decoder.conv_in.") ||
         startsWith(name, "first_stage_model.decoder.");
}

qint64 folderSize(const QString& folder) {
  qint64 total = 0;
  QDirIterator it(folder, QDir::Files, QDirIterator::Subdirectories);
  while (it.hasNext()) total += QFileInfo(it.next()).size();
  return total;
}

}  // namespace

ModelChoice bundledModelChoice() {
  return {QCoreApplication::translate("ModelFolders", "%1 (bundled)").arg(QString::fromLatin1(pipeline::kBundledModelName)),
          QString::fromStdString(pipeline::bundledModelPath())};
}

QString modelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::Checkpoint: return QCoreApplication::translate("ModelFolders", "Checkpoint");
    case ModelKind::Vae: return QCoreApplication::translate("ModelFolders", "VAE");
    case ModelKind::Lora: return QCoreApplication::translate("ModelFolders", "LoRA");
    case ModelKind::Invalid: return QCoreApplication::translate("ModelFolders", "Not a model");
  }
  return {};
}

QString byteSizeText(qint64 bytes) {
  const double value = static_cast<double>(bytes);
  if (bytes >= (qint64(1) << 30)) return QCoreApplication::translate("ModelFolders", "%1 GiB").arg(value / double(qint64(1) << 30), 0, 'f', 2);
  if (bytes >= (qint64(1) << 20)) return QCoreApplication::translate("ModelFolders", "%1 MiB").arg(value / double(qint64(1) << 20), 0, 'f', 1);
  return QCoreApplication::translate("ModelFolders", "%1 KiB").arg(value / 1024.0, 0, 'f', 1);
}

QString ModelFileInfo::convertedPath() const {
  return QString::fromStdString(io::convertedCheckpointPath(path.toStdString()));
}

ModelFileInfo classifyModelFile(const QString& path) {
  ModelFileInfo info;
  info.path = path;
  const QFileInfo file(path);
  if (file.isDir()) {
    info.size_bytes = folderSize(path);
    auto opened = captureErrors([&] { return io::Checkpoint::open(path.toStdString()); });
    if (opened) info.kind = ModelKind::Checkpoint;
    else info.error = QString::fromStdString(opened.error().detail);
    return info;
  }
  info.size_bytes = file.size();
  const QString suffix = file.suffix().toLower();
  if (suffix != "safetensors") {
    info.convertible = true;
    info.error = QCoreApplication::translate("ModelFolders", "%1 is a PyTorch pickle file, which is never loaded directly (pickles can run code): "
                    "Convert writes %2 beside it (the same as: gesso-cli convert \"%1\" \"%2\")")
                     .arg(path, info.convertedPath());
    return info;
  }
  auto header = captureErrors([&] { return io::SafetensorsFile::open(path.toStdString()); });
  if (!header) {
    info.error = QCoreApplication::translate("ModelFolders", "Not a valid safetensors file (damaged, or not a model): %1")
                     .arg(QString::fromStdString(header.error().detail));
    return info;
  }
  bool checkpoint = false, lora = false, vae = false;
  for (const auto& tensor : header.value()->tensors()) {
    checkpoint = checkpoint || isCheckpointKey(tensor.name);
    lora = lora || isLoraKey(tensor.name);
    vae = vae || isVaeKey(tensor.name);
  }
  if (lora) info.kind = ModelKind::Lora;  // first: LoRAs name the UNet's modules too
  else if (checkpoint) info.kind = ModelKind::Checkpoint;
  else if (vae) info.kind = ModelKind::Vae;
  else info.error = QCoreApplication::translate("ModelFolders", "%1 is a safetensors file but holds no Stable Diffusion UNet, VAE or LoRA tensors").arg(path);
  return info;
}

QList<ModelFileInfo> scanModelFolders(const QString& models_folder, const QString& lora_folder) {
  QSet<QString> seen;
  QList<ModelFileInfo> files;
  const QStringList patterns{"*.safetensors", "*.ckpt", "*.pt", "*.pth", "*.bin"};
  for (const QString& folder : {models_folder, lora_folder}) {
    if (folder.isEmpty() || !QFileInfo(folder).isDir()) continue;
    QStringList diffusers;
    QDirIterator dirs(folder, QDir::Dirs | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (dirs.hasNext()) {
      const QString dir = QFileInfo(dirs.next()).canonicalFilePath();
      if (QFileInfo::exists(dir + "/model_index.json")) diffusers << dir;
    }
    auto insideDiffusers = [&](const QString& path) {
      return std::any_of(diffusers.begin(), diffusers.end(), [&](const QString& d) { return path.startsWith(d + "/"); });
    };
    for (const QString& dir : diffusers) {
      if (!seen.contains(dir)) {
        seen.insert(dir);
        files << classifyModelFile(dir);
      }
    }
    QDirIterator it(folder, patterns, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
      const QString path = QFileInfo(it.next()).canonicalFilePath();
      if (seen.contains(path) || insideDiffusers(path)) continue;
      seen.insert(path);
      files << classifyModelFile(path);
    }
  }
  std::sort(files.begin(), files.end(), [](const ModelFileInfo& a, const ModelFileInfo& b) { return a.path < b.path; });
  return files;
}

ModelDetails inspectModelFile(const ModelFileInfo& file) {
  ModelDetails details;
  const std::string path = file.path.toStdString();
  if (file.kind == ModelKind::Invalid) fail(ErrorCode::InvalidFormat, file.error.toStdString());
  if (file.kind == ModelKind::Checkpoint) {
    const io::Checkpoint checkpoint = io::Checkpoint::open(path);
    const ResolvedConfig resolved = resolveConfig(checkpoint);
    details.family = QString::fromUtf8(familyName(resolved.config.family));
    details.config_source = QString::fromStdString(resolved.source);
  } else if (file.kind == ModelKind::Lora) {
    const auto header = io::SafetensorsFile::open(path);
    bool second_encoder = false;
    for (const auto& tensor : header->tensors()) second_encoder = second_encoder || startsWith(tensor.name, "lora_te2_");
    const auto& metadata = header->metadata();
    const auto base = metadata.find("ss_base_model_version");
    if (base != metadata.end()) details.family = QString::fromStdString(base->second);
    else details.family = second_encoder ? QString("SDXL") : QString("SD1/SD2");
  } else {
    io::SafetensorsFile::open(path);  // a damaged VAE fails here
    details.family = QCoreApplication::translate("ModelFolders", "any");
  }
  if (QFileInfo(file.path).isFile()) {
    details.sha256 = QString::fromStdString(util::sha256FileHex(path));
    details.short_hash = details.sha256.left(10);
  }
  return details;
}

}  // namespace gesso::ui
