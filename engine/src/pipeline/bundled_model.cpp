// The bundled model's search path; see gesso/pipeline/bundled_model.h. GESSO_SOURCE_MODELS_DIR and
// GESSO_INSTALL_MODELS_DIR come from engine/CMakeLists.txt (set on this file only).
#include "gesso/pipeline/bundled_model.h"

#include <cstdlib>
#include <filesystem>

namespace gesso::pipeline {

namespace {

namespace fs = std::filesystem;

fs::path executableFolder() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : self.parent_path();
}

}  // namespace

std::vector<std::string> bundledModelSearchPaths() {
  std::vector<std::string> folders;
  if (const char* env = std::getenv("GESSO_MODELS"); env && *env) folders.emplace_back(env);
  if (const fs::path bin = executableFolder(); !bin.empty()) {
    folders.push_back((bin.parent_path() / "share" / "gesso" / "models").string());
  }
#ifdef GESSO_INSTALL_MODELS_DIR
  folders.emplace_back(GESSO_INSTALL_MODELS_DIR);
#endif
#ifdef GESSO_SOURCE_MODELS_DIR
  folders.emplace_back(GESSO_SOURCE_MODELS_DIR);
#endif
  return folders;
}

std::string bundledModelPath() {
  const std::string file = std::string(kBundledModelName) + "/" + kBundledModelName + ".safetensors";
  for (const auto& folder : bundledModelSearchPaths()) {
    std::error_code error;
    const fs::path candidate = fs::path(folder) / file;
    if (fs::is_regular_file(candidate, error)) return candidate.lexically_normal().string();
  }
  return {};
}

}  // namespace gesso::pipeline
