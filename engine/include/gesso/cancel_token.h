// A cancellation flag carried by a request: the UI thread sets it, the engine checks it before every network call.
#pragma once

#include <atomic>

namespace gesso {

struct CancelToken {
  std::atomic<bool> cancelled{false};

  void cancel() { cancelled.store(true, std::memory_order_relaxed); }
  bool isCancelled() const { return cancelled.load(std::memory_order_relaxed); }
};

}  // namespace gesso
