// The CLIP byte-level BPE tokenizer (openai/CLIP's SimpleTokenizer), which every Stable Diffusion text encoder uses.
// It reads OpenAI's bpe_simple_vocab_16e6.txt.gz or a HuggingFace tokenizer folder (vocab.json + merges.txt).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gesso::models {

class ClipTokenizer {
 public:
  static constexpr int64_t kContextLength = 77;
  static constexpr int64_t kOpenClipPad = 0;  // open_clip.tokenize pads with 0; HF CLIPTokenizer with end-of-text

  // `path` is either a bpe_simple_vocab_16e6.txt.gz file or a folder holding vocab.json and merges.txt.
  // Throws GessoError(FileNotFound) naming the path looked for, or InvalidFormat for a malformed vocabulary.
  static ClipTokenizer load(const std::string& path);
  static ClipTokenizer fromOpenAiVocab(const std::string& gz_path);
  static ClipTokenizer fromHuggingFaceFolder(const std::string& folder);

  // BPE ids of a prompt, without start/end tokens and without truncation. The text is cleaned as openai/CLIP
  // does (NFC in place of ftfy, HTML entities unescaped twice, whitespace collapsed, lower-cased).
  std::vector<int64_t> encode(const std::string& text) const;

  // One context window: [start] + ids[:context-2] + [end], padded to `context_length` with `pad_token`
  // (endOfText() for HF/SD1/SDXL embedder 0, kOpenClipPad for open_clip/SD2/SDXL embedder 1). open_clip's rule
  // (cut to the context, then set the last id to end-of-text) gives the same ids as HF's truncation.
  std::vector<int64_t> encodeWindow(const std::string& text, int64_t pad_token,
                                    int64_t context_length = kContextLength) const;
  // encodeWindow for each prompt: int64 [prompts, context_length].
  at::Tensor encodeBatch(const std::vector<std::string>& prompts, int64_t pad_token,
                         int64_t context_length = kContextLength) const;

  int64_t startOfText() const { return start_of_text_; }
  int64_t endOfText() const { return end_of_text_; }
  // Token strings (in the byte-to-unicode alphabet) by id, and the merges in rank order: what vocab.json and
  // merges.txt hold.
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  const std::vector<std::pair<std::string, std::string>>& merges() const { return merges_; }

  ClipTokenizer(const ClipTokenizer& other);
  ClipTokenizer& operator=(const ClipTokenizer& other);
  ClipTokenizer(ClipTokenizer&& other) noexcept;
  ClipTokenizer& operator=(ClipTokenizer&& other) noexcept;
  ~ClipTokenizer();

 private:
  ClipTokenizer(std::vector<std::string> vocabulary, std::vector<std::pair<std::string, std::string>> merges,
                const std::string& source);
  // The ids of one pre-token's BPE symbols; cached (the cache is emptied when it grows past a bound).
  std::vector<int64_t> encodeWord(const std::string& piece) const;

  std::vector<std::string> vocabulary_;
  std::vector<std::pair<std::string, std::string>> merges_;
  std::unordered_map<std::string, int64_t> ids_;     // token -> id
  std::unordered_map<std::string, int64_t> ranks_;   // "first second" -> merge rank
  std::vector<std::string> byte_symbols_;            // byte -> its unicode stand-in (UTF-8)
  int64_t start_of_text_ = 0;
  int64_t end_of_text_ = 0;
  std::string source_;                               // the file or folder it came from, for messages

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace gesso::models
