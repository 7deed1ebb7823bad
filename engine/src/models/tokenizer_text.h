// Text preparation for the CLIP tokenizer: openai/CLIP's basic_clean + whitespace_clean + lower(), and its
// pre-tokenisation regex, written as a small UTF-8 aware scanner over ICU's Unicode character classes.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gesso::models::detail {

// NFC (standing in for ftfy.fix_text), html.unescape twice, strip, collapse whitespace runs to one space,
// full Unicode lower-casing. Input and output are UTF-8; invalid UTF-8 is an InvalidArgument error.
std::string cleanPrompt(const std::string& utf8);

// The pieces CLIP's regex finds in cleaned text, in order:
//   <|startoftext|> | <|endoftext|> | 's|'t|'re|'ve|'m|'ll|'d | \p{L}+ | \p{N} | [^\s\p{L}\p{N}]+
std::vector<std::string> preTokenize(const std::string& cleaned_utf8);

// html.unescape of Python's standard library: numeric references in full, named references for a common
// subset (the Latin-1 set, which may omit the ';', plus Greek letters, quotes, dashes and other frequent ones).
std::u32string unescapeHtml(const std::u32string& text);

// GPT-2/CLIP bytes_to_unicode: (byte, its UTF-8 stand-in), printable bytes first, in the order of the first 256
// vocabulary ids.
std::vector<std::pair<int, std::string>> bytesToUnicode();

}  // namespace gesso::models::detail
