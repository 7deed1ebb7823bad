// Packing weighted prompt tokens into 77-token windows as AUTOMATIC1111 does (see token_windows.h).
#include "gesso/prompt/token_windows.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace gesso::prompt {
namespace {

// The window being filled: prompt tokens only (no start/end yet).
struct OpenWindow {
  std::vector<int64_t> ids;
  std::vector<float> weights;
  int64_t last_comma = -1;  // index in ids of the last comma, -1 when none since the window opened
};

class WindowPacker {
 public:
  explicit WindowPacker(const WindowOptions& options) : options_(options) {}

  void add(int64_t id, float weight) {
    if (id == options_.comma_id) {
      open_.last_comma = static_cast<int64_t>(open_.ids.size());
    } else if (options_.comma_padding_backtrack > 0 && full() && open_.last_comma != -1 &&
               kWindowPromptTokens - open_.last_comma <= options_.comma_padding_backtrack) {
      // Cut the full window after its last comma and carry the rest over.
      const auto cut = static_cast<std::ptrdiff_t>(open_.last_comma + 1);
      std::vector<int64_t> moved_ids(open_.ids.begin() + cut, open_.ids.end());
      std::vector<float> moved_weights(open_.weights.begin() + cut, open_.weights.end());
      open_.ids.resize(static_cast<size_t>(cut));
      open_.weights.resize(static_cast<size_t>(cut));
      close(false);
      open_.ids = std::move(moved_ids);
      open_.weights = std::move(moved_weights);
    }
    // A comma that arrives at a full window is not remembered: the window closes here and forgets last_comma.
    if (full()) close(false);
    open_.ids.push_back(id);
    open_.weights.push_back(weight);
  }

  void closeForBreak() { close(false); }

  TokenWindows finish() {
    if (!open_.ids.empty() || result_.ids.empty()) close(true);
    return std::move(result_);
  }

 private:
  bool full() const { return open_.ids.size() == static_cast<size_t>(kWindowPromptTokens); }

  void close(bool is_last) {
    const int64_t used = static_cast<int64_t>(open_.ids.size());
    result_.token_count += is_last ? used : kWindowPromptTokens;

    std::array<int64_t, kWindowLength> ids;
    std::array<float, kWindowLength> weights;
    ids.fill(options_.end_id);
    weights.fill(1.0f);
    ids[0] = options_.start_id;
    std::copy(open_.ids.begin(), open_.ids.end(), ids.begin() + 1);
    std::copy(open_.weights.begin(), open_.weights.end(), weights.begin() + 1);
    // As A1111: after the first end token everything becomes pad_id (a no-op when pad_id == end_id).
    if (options_.pad_id != options_.end_id) {
      const auto first_end = std::find(ids.begin(), ids.end(), options_.end_id);
      if (first_end != ids.end()) std::fill(first_end + 1, ids.end(), options_.pad_id);
    }
    result_.ids.push_back(ids);
    result_.weights.push_back(weights);
    open_ = OpenWindow{};
  }

  WindowOptions options_;
  OpenWindow open_;
  TokenWindows result_;
};

}  // namespace

at::Tensor TokenWindows::idsTensor() const {
  at::Tensor tensor = at::empty({size(), kWindowLength}, at::kLong);  // [windows, 77]
  for (int64_t w = 0; w < size(); ++w)
    std::copy(ids[w].begin(), ids[w].end(), tensor.data_ptr<int64_t>() + w * kWindowLength);
  return tensor;
}

at::Tensor TokenWindows::weightsTensor() const {
  at::Tensor tensor = at::empty({size(), kWindowLength}, at::kFloat);  // [windows, 77]
  for (int64_t w = 0; w < size(); ++w)
    std::copy(weights[w].begin(), weights[w].end(), tensor.data_ptr<float>() + w * kWindowLength);
  return tensor;
}

TokenWindows buildTokenWindows(const std::vector<WeightedText>& parts, const Tokenizer& tokenize,
                               const WindowOptions& options) {
  if (!tokenize) fail(ErrorCode::InvalidArgument, "buildTokenWindows: no tokenizer given");
  if (options.comma_padding_backtrack < 0 || options.comma_padding_backtrack > kWindowPromptTokens)
    fail(ErrorCode::InvalidArgument, "buildTokenWindows: comma_padding_backtrack is " +
                                         std::to_string(options.comma_padding_backtrack) + ", expected 0..75");
  WindowPacker packer(options);
  for (const WeightedText& part : parts) {
    if (part.is_break) {
      packer.closeForBreak();
      continue;
    }
    if (part.text.empty()) continue;
    for (int64_t id : tokenize(part.text)) packer.add(id, part.weight);
  }
  return packer.finish();
}

TokenWindows emptyTokenWindow(const WindowOptions& options) {
  return buildTokenWindows({}, [](const std::string&) { return std::vector<int64_t>{}; }, options);
}

}  // namespace gesso::prompt
