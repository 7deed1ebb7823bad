// Strict UTF-8 validation, shared by the PNG text chunks and the training captions.
#pragma once

#include <string_view>

namespace gesso::util {

// True when `text` is well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool isValidUtf8(std::string_view text);

}  // namespace gesso::util
