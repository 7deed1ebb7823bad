// Loaded models kept between jobs (see model_cache.h).
#include "worker/model_cache.h"

#include <algorithm>

namespace gesso::ui {

std::shared_ptr<pipeline::LoadedModel> ModelCache::get(const pipeline::ModelLoadOptions& options) {
  for (auto it = models_.begin(); it != models_.end(); ++it) {
    if ((*it)->options() == options) {
      auto model = *it;
      models_.erase(it);
      models_.push_back(model);
      return model;
    }
  }
  // Drop before loading, so two large checkpoints are never resident at once because of the cache.
  while (!models_.empty() && models_.size() >= capacity_) models_.erase(models_.begin());
  auto model = pipeline::LoadedModel::load(options);
  models_.push_back(model);
  return model;
}

std::shared_ptr<pipeline::LoadedModel> ModelCache::find(const pipeline::ModelLoadOptions& options) const {
  for (const auto& model : models_)
    if (model->options() == options) return model;
  return nullptr;
}

void ModelCache::unload(const pipeline::ModelLoadOptions& options) {
  models_.erase(std::remove_if(models_.begin(), models_.end(),
                               [&](const auto& model) { return model->options() == options; }),
                models_.end());
}

void ModelCache::clear() { models_.clear(); }

std::vector<pipeline::ModelLoadOptions> ModelCache::loaded() const {
  std::vector<pipeline::ModelLoadOptions> result;
  for (const auto& model : models_) result.push_back(model->options());
  return result;
}

void ModelCache::setCapacity(size_t capacity) {
  capacity_ = std::max<size_t>(capacity, 1);
  while (models_.size() > capacity_) models_.erase(models_.begin());
}

}  // namespace gesso::ui
