// Loaded models kept between jobs on the worker thread, keyed by their ModelLoadOptions; the least recently used
// is dropped beyond a capacity (checkpoints are large).
#pragma once

#include "gesso/pipeline/pipeline.h"

#include <memory>
#include <vector>

namespace gesso::ui {

class ModelCache {
 public:
  explicit ModelCache(size_t capacity = 1) : capacity_(capacity) {}

  // The cached model for `options`, loading it if needed (throws GessoError naming the file on failure).
  std::shared_ptr<pipeline::LoadedModel> get(const pipeline::ModelLoadOptions& options);
  // The cached model or null, without loading.
  std::shared_ptr<pipeline::LoadedModel> find(const pipeline::ModelLoadOptions& options) const;
  void unload(const pipeline::ModelLoadOptions& options);
  void clear();
  std::vector<pipeline::ModelLoadOptions> loaded() const;
  void setCapacity(size_t capacity);

 private:
  size_t capacity_ = 1;
  std::vector<std::shared_ptr<pipeline::LoadedModel>> models_;  // most recently used last
};

}  // namespace gesso::ui
