// Learns a CLIP-format byte-level BPE vocabulary from caption texts and writes it as vocab.json + merges.txt,
// which ClipTokenizer::load reads like a HuggingFace CLIP tokenizer folder.
#pragma once

#include "gesso/models/tokenizer.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gesso::models {

struct BpeVocabulary {
  // CLIP's order: 256 byte symbols, the same 256 with "</w>", one token per merge, <|startoftext|>, <|endoftext|>.
  std::vector<std::string> vocabulary;
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
};

// Words are cut as ClipTokenizer cuts them (cleaned, lower-cased, CLIP's pre-tokeniser); the most frequent adjacent
// pair is merged until the vocabulary has `vocab_size` entries or every word is one symbol. Ties go to the
// lexicographically smallest pair, so the result depends only on the texts. Throws InvalidArgument when
// vocab_size < 514 (the byte alphabet and the two special tokens) or there is no text.
BpeVocabulary learnBpe(const std::vector<std::string>& texts, int vocab_size);

// vocab.json (token -> id, ids in order) and merges.txt ("#version: 0.2" then "first second" lines), each written
// atomically into `folder` (created if missing).
void writeBpeVocabulary(const BpeVocabulary& bpe, const std::string& folder);

// The text of ids (no start/end/padding tokens): symbols joined, "</w>" read as a space, bytes restored, the last
// space dropped. For a cleaned prompt, decodeTokens(t, t.encode(prompt)) gives it back with punctuation spaced as
// CLIP's own decoder spaces it ("on the left, blue" -> "on the left , blue"), and encoding that gives the same ids.
std::string decodeTokens(const ClipTokenizer& tokenizer, const std::vector<int64_t>& ids);

// The contents of every .txt file under `folder` (recursively, sorted by path), trailing newlines removed.
std::vector<std::string> readCaptionFiles(const std::string& folder);

}  // namespace gesso::models
