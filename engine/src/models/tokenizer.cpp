// The CLIP BPE tokenizer: vocabulary loading (OpenAI gzip or HuggingFace files), byte-to-unicode mapping,
// BPE merges with a cache, and 77-token context windows. See tokenizer.h.
#include "gesso/models/tokenizer.h"

#include "gesso/error.h"
#include "models/tokenizer_text.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace gesso::models {
namespace {

namespace fs = std::filesystem;

// OpenAI's bpe_simple_vocab_16e6.txt holds more merges than CLIP uses: it takes lines [1, 49152-256-2+1).
constexpr size_t kOpenAiMergeCount = 49152 - 256 - 2;
const char* const kStartToken = "<|startoftext|>";
const char* const kEndToken = "<|endoftext|>";

std::string utf8Of(char32_t code) {
  std::string out;
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else {  // the byte alphabet stays below U+0800
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
  return out;
}

std::string readGzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) fail(ErrorCode::IoError, "cannot open CLIP BPE vocabulary " + path);
  std::string data;
  char buffer[1 << 16];
  for (;;) {
    const int read = gzread(file, buffer, sizeof(buffer));
    if (read < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      fail(ErrorCode::InvalidFormat, "CLIP BPE vocabulary " + path + " is not a readable gzip file: " + message);
    }
    if (read == 0) break;
    data.append(buffer, static_cast<size_t>(read));
  }
  gzclose(file);
  return data;
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::IoError, "cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::pair<std::string, std::string> parseMerge(const std::string& line, const std::string& path, size_t line_number) {
  std::istringstream in(line);
  std::string first, second, rest;
  if (!(in >> first >> second) || (in >> rest)) {
    fail(ErrorCode::InvalidFormat, path + " line " + std::to_string(line_number) +
                                       ": expected a merge of two symbols separated by a space, found '" + line + "'");
  }
  return {first, second};
}

}  // namespace

// Printable bytes stand for themselves, the others map to U+0100 onwards (see tokenizer_text.h).
std::vector<std::pair<int, std::string>> detail::bytesToUnicode() {
  std::vector<int> bytes;
  for (int b = '!'; b <= '~'; ++b) bytes.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bytes.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bytes.push_back(b);
  std::vector<std::pair<int, std::string>> mapping;
  for (int b : bytes) mapping.emplace_back(b, utf8Of(static_cast<char32_t>(b)));
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    if (std::find(bytes.begin(), bytes.end(), b) == bytes.end()) {
      mapping.emplace_back(b, utf8Of(static_cast<char32_t>(256 + extra++)));
    }
  }
  return mapping;
}

ClipTokenizer ClipTokenizer::load(const std::string& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) return fromHuggingFaceFolder(path);
  if (fs::is_regular_file(path, error)) return fromOpenAiVocab(path);
  fail(ErrorCode::FileNotFound, "CLIP BPE vocabulary not found at " + path +
                                    " (expected bpe_simple_vocab_16e6.txt.gz or a folder with vocab.json and merges.txt)");
}

ClipTokenizer ClipTokenizer::fromOpenAiVocab(const std::string& gz_path) {
  if (!fs::is_regular_file(gz_path)) {
    fail(ErrorCode::FileNotFound, "CLIP BPE vocabulary not found: " + gz_path + " (bpe_simple_vocab_16e6.txt.gz)");
  }
  const std::vector<std::string> lines = splitLines(readGzip(gz_path));
  if (lines.size() < kOpenAiMergeCount + 1) {
    fail(ErrorCode::InvalidFormat, "CLIP BPE vocabulary " + gz_path + " has " + std::to_string(lines.size()) +
                                       " lines; expected a header and at least " + std::to_string(kOpenAiMergeCount) +
                                       " merges");
  }
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(kOpenAiMergeCount);
  for (size_t i = 1; i <= kOpenAiMergeCount; ++i) merges.push_back(parseMerge(lines[i], gz_path, i + 1));

  std::vector<std::string> vocabulary;
  const auto alphabet = detail::bytesToUnicode();
  for (const auto& entry : alphabet) vocabulary.push_back(entry.second);
  for (const auto& entry : alphabet) vocabulary.push_back(entry.second + "</w>");
  for (const auto& [first, second] : merges) vocabulary.push_back(first + second);
  vocabulary.emplace_back(kStartToken);
  vocabulary.emplace_back(kEndToken);
  return ClipTokenizer(std::move(vocabulary), std::move(merges), gz_path);
}

ClipTokenizer ClipTokenizer::fromHuggingFaceFolder(const std::string& folder) {
  const std::string vocab_path = (fs::path(folder) / "vocab.json").string();
  const std::string merges_path = (fs::path(folder) / "merges.txt").string();
  for (const auto& path : {vocab_path, merges_path}) {
    if (!fs::is_regular_file(path)) fail(ErrorCode::FileNotFound, "CLIP tokenizer file not found: " + path);
  }
  nlohmann::json vocab_json;
  try {
    vocab_json = nlohmann::json::parse(readText(vocab_path));
  } catch (const nlohmann::json::exception& error) {
    fail(ErrorCode::InvalidFormat, vocab_path + " is not valid JSON: " + error.what());
  }
  if (!vocab_json.is_object()) fail(ErrorCode::InvalidFormat, vocab_path + ": expected an object of token -> id");
  std::vector<std::string> vocabulary(vocab_json.size());
  for (const auto& [token, id_value] : vocab_json.items()) {
    if (!id_value.is_number_integer()) fail(ErrorCode::InvalidFormat, vocab_path + ": id of '" + token + "' is not an integer");
    const auto id = id_value.get<int64_t>();
    if (id < 0 || id >= static_cast<int64_t>(vocabulary.size()) || !vocabulary[id].empty()) {
      fail(ErrorCode::InvalidFormat, vocab_path + ": ids must be 0.." + std::to_string(vocabulary.size() - 1) +
                                         " without gaps; '" + token + "' has " + std::to_string(id));
    }
    vocabulary[id] = token;
  }
  std::vector<std::pair<std::string, std::string>> merges;
  const std::vector<std::string> lines = splitLines(readText(merges_path));
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty() || (i == 0 && lines[i].rfind("#version", 0) == 0)) continue;
    merges.push_back(parseMerge(lines[i], merges_path, i + 1));
  }
  return ClipTokenizer(std::move(vocabulary), std::move(merges), folder);
}

ClipTokenizer::ClipTokenizer(std::vector<std::string> vocabulary, std::vector<std::pair<std::string, std::string>> merges,
                             const std::string& source)
    : vocabulary_(std::move(vocabulary)), merges_(std::move(merges)), source_(source) {
  ids_.reserve(vocabulary_.size());
  for (size_t id = 0; id < vocabulary_.size(); ++id) ids_.emplace(vocabulary_[id], static_cast<int64_t>(id));
  ranks_.reserve(merges_.size());
  for (size_t rank = 0; rank < merges_.size(); ++rank) {
    ranks_.emplace(merges_[rank].first + " " + merges_[rank].second, static_cast<int64_t>(rank));
  }
  byte_symbols_.resize(256);
  for (const auto& [byte, symbol] : detail::bytesToUnicode()) {
    byte_symbols_[byte] = symbol;
    if (!ids_.count(symbol) || !ids_.count(symbol + "</w>")) {
      fail(ErrorCode::InvalidFormat, "CLIP vocabulary " + source + " lacks the byte symbol '" + symbol + "'");
    }
  }
  for (const char* special : {kStartToken, kEndToken}) {
    if (!ids_.count(special)) fail(ErrorCode::InvalidFormat, "CLIP vocabulary " + source + " lacks " + special);
  }
  start_of_text_ = ids_.at(kStartToken);
  end_of_text_ = ids_.at(kEndToken);
}

ClipTokenizer::ClipTokenizer(const ClipTokenizer& other)
    : vocabulary_(other.vocabulary_),
      merges_(other.merges_),
      ids_(other.ids_),
      ranks_(other.ranks_),
      byte_symbols_(other.byte_symbols_),
      start_of_text_(other.start_of_text_),
      end_of_text_(other.end_of_text_),
      source_(other.source_) {}

ClipTokenizer& ClipTokenizer::operator=(const ClipTokenizer& other) {
  if (this != &other) {
    ClipTokenizer copy(other);
    *this = std::move(copy);
  }
  return *this;
}

ClipTokenizer::ClipTokenizer(ClipTokenizer&& other) noexcept
    : vocabulary_(std::move(other.vocabulary_)),
      merges_(std::move(other.merges_)),
      ids_(std::move(other.ids_)),
      ranks_(std::move(other.ranks_)),
      byte_symbols_(std::move(other.byte_symbols_)),
      start_of_text_(other.start_of_text_),
      end_of_text_(other.end_of_text_),
      source_(std::move(other.source_)) {}

ClipTokenizer& ClipTokenizer::operator=(ClipTokenizer&& other) noexcept {
  vocabulary_ = std::move(other.vocabulary_);
  merges_ = std::move(other.merges_);
  ids_ = std::move(other.ids_);
  ranks_ = std::move(other.ranks_);
  byte_symbols_ = std::move(other.byte_symbols_);
  start_of_text_ = other.start_of_text_;
  end_of_text_ = other.end_of_text_;
  source_ = std::move(other.source_);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  cache_.clear();
  return *this;
}

ClipTokenizer::~ClipTokenizer() = default;

std::vector<int64_t> ClipTokenizer::encodeWord(const std::string& piece) const {
  if (piece == kStartToken || piece == kEndToken) return {ids_.at(piece)};  // the reference's pre-seeded specials
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (auto found = cache_.find(piece); found != cache_.end()) return found->second;
  }
  std::vector<int64_t> ids;
  // Symbols: one per byte, the last one marked as the end of a word.
  std::vector<std::string> word;
  for (unsigned char byte : piece) word.push_back(byte_symbols_[byte]);
  word.back() += "</w>";

  constexpr int64_t kNoMerge = std::numeric_limits<int64_t>::max();
  while (word.size() > 1) {
    // The adjacent pair with the lowest merge rank.
    int64_t best_rank = kNoMerge;
    size_t best = 0;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      const auto found = ranks_.find(word[i] + " " + word[i + 1]);
      if (found != ranks_.end() && found->second < best_rank) best_rank = found->second, best = i;
    }
    if (best_rank == kNoMerge) break;
    const std::string first = word[best];
    const std::string second = word[best + 1];
    // Merge every occurrence of that pair, left to right.
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i]);
        i += 1;
      }
    }
    word = std::move(merged);
  }
  for (const auto& symbol : word) {
    const auto found = ids_.find(symbol);
    if (found == ids_.end()) {
      fail(ErrorCode::InvalidFormat, "CLIP vocabulary " + source_ + " has no id for the BPE symbol '" + symbol + "'");
    }
    ids.push_back(found->second);
  }
  constexpr size_t kMaxCachedWords = 100000;
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kMaxCachedWords) cache_.clear();
  cache_.emplace(piece, ids);
  return ids;
}

std::vector<int64_t> ClipTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const auto& piece : detail::preTokenize(detail::cleanPrompt(text))) {
    const std::vector<int64_t> word_ids = encodeWord(piece);
    ids.insert(ids.end(), word_ids.begin(), word_ids.end());
  }
  return ids;
}

std::vector<int64_t> ClipTokenizer::encodeWindow(const std::string& text, int64_t pad_token, int64_t context_length) const {
  if (context_length < 2) {
    fail(ErrorCode::InvalidArgument, "context length must be at least 2 (start and end tokens), got " +
                                         std::to_string(context_length));
  }
  const std::vector<int64_t> ids = encode(text);
  const size_t kept = std::min(ids.size(), static_cast<size_t>(context_length - 2));
  std::vector<int64_t> window;
  window.reserve(context_length);
  window.push_back(start_of_text_);
  window.insert(window.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(kept));
  window.push_back(end_of_text_);
  window.resize(static_cast<size_t>(context_length), pad_token);
  return window;
}

at::Tensor ClipTokenizer::encodeBatch(const std::vector<std::string>& prompts, int64_t pad_token,
                                      int64_t context_length) const {
  at::Tensor batch = at::empty({static_cast<int64_t>(prompts.size()), context_length}, at::kLong);  // [B, L]
  auto rows = batch.accessor<int64_t, 2>();
  for (size_t b = 0; b < prompts.size(); ++b) {
    const std::vector<int64_t> window = encodeWindow(prompts[b], pad_token, context_length);
    for (int64_t i = 0; i < context_length; ++i) rows[static_cast<int64_t>(b)][i] = window[i];
  }
  return batch;
}

}  // namespace gesso::models
