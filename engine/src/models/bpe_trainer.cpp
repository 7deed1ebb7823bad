// Byte-level BPE learning (Sennrich et al. 2016, as GPT-2/CLIP apply it to bytes with an end-of-word marker) and
// its files. See gesso/models/bpe_trainer.h.
#include "gesso/models/bpe_trainer.h"

#include "gesso/error.h"
#include "models/tokenizer_text.h"
#include "util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace gesso::models {

namespace {

namespace fs = std::filesystem;

constexpr const char* kEndOfWord = "</w>";

void writeText(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

}  // namespace

BpeVocabulary learnBpe(const std::vector<std::string>& texts, int vocab_size) {
  constexpr int kBase = 2 * 256 + 2;
  if (vocab_size < kBase) {
    fail(ErrorCode::InvalidArgument, "a CLIP vocabulary needs at least " + std::to_string(kBase) +
                                         " entries (512 byte symbols and 2 special tokens), asked for " +
                                         std::to_string(vocab_size));
  }
  const auto alphabet = detail::bytesToUnicode();
  std::vector<std::string> byte_symbols(256);
  for (const auto& [byte, symbol] : alphabet) byte_symbols[static_cast<size_t>(byte)] = symbol;

  // Word frequencies, each word as its symbol sequence (a std::map keeps the order deterministic).
  std::map<std::string, int64_t> counts;
  for (const std::string& text : texts) {
    for (const std::string& piece : detail::preTokenize(detail::cleanPrompt(text))) ++counts[piece];
  }
  if (counts.empty()) fail(ErrorCode::InvalidArgument, "no words to learn a vocabulary from (the captions are empty)");
  std::vector<std::pair<std::vector<std::string>, int64_t>> words;
  for (const auto& [piece, count] : counts) {
    std::vector<std::string> symbols;
    for (unsigned char byte : piece) symbols.push_back(byte_symbols[byte]);
    symbols.back() += kEndOfWord;
    words.emplace_back(std::move(symbols), count);
  }

  BpeVocabulary bpe;
  for (const auto& entry : alphabet) bpe.vocabulary.push_back(entry.second);
  for (const auto& entry : alphabet) bpe.vocabulary.push_back(entry.second + kEndOfWord);
  const size_t merge_budget = static_cast<size_t>(vocab_size - kBase);
  while (bpe.merges.size() < merge_budget) {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& [symbols, count] : words) {
      for (size_t i = 0; i + 1 < symbols.size(); ++i) pairs[{symbols[i], symbols[i + 1]}] += count;
    }
    if (pairs.empty()) break;  // every word is one symbol
    auto best = pairs.begin();
    for (auto it = pairs.begin(); it != pairs.end(); ++it) {
      if (it->second > best->second) best = it;  // strictly greater: ties keep the smallest pair
    }
    const auto [first, second] = best->first;
    for (auto& [symbols, count] : words) {
      std::vector<std::string> merged;
      merged.reserve(symbols.size());
      for (size_t i = 0; i < symbols.size();) {
        if (i + 1 < symbols.size() && symbols[i] == first && symbols[i + 1] == second) {
          merged.push_back(first + second);
          i += 2;
        } else {
          merged.push_back(symbols[i]);
          i += 1;
        }
      }
      symbols = std::move(merged);
    }
    bpe.merges.emplace_back(first, second);
    bpe.vocabulary.push_back(first + second);
  }
  bpe.vocabulary.emplace_back("<|startoftext|>");
  bpe.vocabulary.emplace_back("<|endoftext|>");
  return bpe;
}

void writeBpeVocabulary(const BpeVocabulary& bpe, const std::string& folder) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error || !fs::is_directory(folder)) fail(ErrorCode::IoError, "cannot create the tokenizer folder " + folder);
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (size_t id = 0; id < bpe.vocabulary.size(); ++id) {
    if (vocab.contains(bpe.vocabulary[id])) {
      fail(ErrorCode::Internal, "BPE vocabulary has the token '" + bpe.vocabulary[id] + "' twice");
    }
    vocab[bpe.vocabulary[id]] = static_cast<int64_t>(id);
  }
  writeText((fs::path(folder) / "vocab.json").string(), vocab.dump() + "\n");
  std::string merges = "#version: 0.2\n";
  for (const auto& [first, second] : bpe.merges) merges += first + " " + second + "\n";
  writeText((fs::path(folder) / "merges.txt").string(), merges);
}

std::string decodeTokens(const ClipTokenizer& tokenizer, const std::vector<int64_t>& ids) {
  std::map<std::string, unsigned char> bytes;
  for (const auto& [byte, symbol] : detail::bytesToUnicode()) bytes[symbol] = static_cast<unsigned char>(byte);
  const auto& vocabulary = tokenizer.vocabulary();
  std::string symbols;
  for (int64_t id : ids) {
    if (id < 0 || id >= static_cast<int64_t>(vocabulary.size())) {
      fail(ErrorCode::InvalidArgument, "token id " + std::to_string(id) + " is outside the vocabulary (" +
                                           std::to_string(vocabulary.size()) + " entries)");
    }
    symbols += vocabulary[static_cast<size_t>(id)];
  }
  std::string text;
  for (size_t i = 0; i < symbols.size();) {
    if (symbols.compare(i, 4, kEndOfWord) == 0) {
      text.push_back(' ');
      i += 4;
      continue;
    }
    // One byte symbol: a UTF-8 sequence of one or two bytes (the alphabet stays below U+0800).
    const size_t length = (static_cast<unsigned char>(symbols[i]) & 0x80) ? 2 : 1;
    const auto found = bytes.find(symbols.substr(i, length));
    if (found == bytes.end()) fail(ErrorCode::InvalidFormat, "'" + symbols.substr(i, length) + "' is not a byte symbol");
    text.push_back(static_cast<char>(found->second));
    i += length;
  }
  if (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::vector<std::string> readCaptionFiles(const std::string& folder) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) fail(ErrorCode::FileNotFound, "caption folder not found: " + folder);
  std::vector<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> captions;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(ErrorCode::IoError, "cannot read caption " + path);
    std::ostringstream text;
    text << in.rdbuf();
    std::string caption = text.str();
    while (!caption.empty() && (caption.back() == '\n' || caption.back() == '\r')) caption.pop_back();
    captions.push_back(std::move(caption));
  }
  return captions;
}

}  // namespace gesso::models
