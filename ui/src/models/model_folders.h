// The model files in the settings' folders, classified by their contents (not their names): checkpoints, VAEs and
// LoRAs; and, on the worker, a file's details through the engine (family, A1111 short hash). Files that are not
// models or are damaged are listed with the engine's error instead.
#pragma once

#include <QList>
#include <QString>

namespace gesso::ui {

enum class ModelKind { Checkpoint, Vae, Lora, Invalid };

struct ModelFileInfo {
  QString path;
  ModelKind kind = ModelKind::Invalid;
  qint64 size_bytes = 0;   // the file's size (a diffusers folder: all its files)
  QString error;           // why a file is Invalid (the engine's message)
  bool convertible = false;  // a PyTorch pickle (.ckpt/.pt/.pth/.bin): ModelsView converts it to convertedPath()
  QString convertedPath() const;  // MODEL.ckpt -> MODEL.safetensors beside it
};

// Every *.safetensors, *.ckpt / *.pt / *.pth / *.bin file and diffusers folder (model_index.json) under the two
// folders (recursively), sorted by path; each classified from its safetensors header (cheap: no tensor is read).
// Either folder may be empty; a file found under both is listed once.
QList<ModelFileInfo> scanModelFolders(const QString& models_folder, const QString& lora_folder);
ModelFileInfo classifyModelFile(const QString& path);

struct ModelDetails {
  QString family;      // familyName() of a checkpoint's detected config; a LoRA's from its metadata or keys
  QString short_hash;  // A1111's: the first 10 hex digits of the file's SHA-256 (empty for a folder)
  QString sha256;
  QString config_source;
};
// Reads what it needs through the engine (io::Checkpoint, resolveConfig, SHA-256 of the whole file: seconds for a
// large file, so call it on the worker). Throws GessoError naming the file.
ModelDetails inspectModelFile(const ModelFileInfo& file);

// The bundled gesso-shapes checkpoint as a model picker entry: label "gesso-shapes (bundled)" (translated) and its
// path; an empty path when it is not installed.
struct ModelChoice {
  QString label;
  QString path;
};
ModelChoice bundledModelChoice();

QString modelKindName(ModelKind kind);  // translated
QString byteSizeText(qint64 bytes);     // "1.99 GiB"

}  // namespace gesso::ui
