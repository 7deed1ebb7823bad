// CLIP prompt cleaning and pre-tokenisation (see tokenizer_text.h). Unicode classes, NFC and lower-casing come
// from ICU (already a dependency of Qt; a hand-written table would also need case mappings and NFC).
#include "models/tokenizer_text.h"

#include "gesso/error.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/locid.h>

#include <array>
#include <cstdint>
#include <sstream>
#include <unordered_map>

namespace gesso::models::detail {
namespace {

// ---- UTF-8 <-> UTF-32 -------------------------------------------------------------------------------------------

std::u32string decodeUtf8(const std::string& text) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  const auto invalid = [&](size_t at) {
    fail(ErrorCode::InvalidArgument, "prompt is not valid UTF-8 (byte offset " + std::to_string(at) + ")");
  };
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    int length = 0;
    char32_t code = 0;
    if (lead < 0x80) {
      length = 1, code = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code = lead & 0x07;
    } else {
      invalid(i);
    }
    if (i + length > text.size()) invalid(i);
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) invalid(i + k);
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr std::array<char32_t, 5> kMinimum{0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) invalid(i);
    out.push_back(code);
    i += length;
  }
  return out;
}

void appendUtf8(std::string& out, char32_t code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

std::string encodeUtf8(const std::u32string& text, size_t begin = 0, size_t end = std::u32string::npos) {
  std::string out;
  end = std::min(end, text.size());
  for (size_t i = begin; i < end; ++i) appendUtf8(out, text[i]);
  return out;
}

// ---- ICU: normalisation, case, classes ------------------------------------------------------------------------

icu::UnicodeString toIcu(const std::u32string& text) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(text.data()), static_cast<int32_t>(text.size()));
}

std::u32string fromIcu(const icu::UnicodeString& text) {
  std::u32string out;
  for (int32_t i = 0; i < text.length(); i = text.moveIndex32(i, 1)) out.push_back(static_cast<char32_t>(text.char32At(i)));
  return out;
}

std::u32string normalizeNfc(const std::u32string& text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) fail(ErrorCode::Internal, std::string("ICU NFC normaliser unavailable: ") + u_errorName(status));
  const icu::UnicodeString normalized = nfc->normalize(toIcu(text), status);
  if (U_FAILURE(status)) fail(ErrorCode::Internal, std::string("ICU NFC normalisation failed: ") + u_errorName(status));
  return fromIcu(normalized);
}

// Full Unicode lower-casing without language rules, as Python's str.lower() (including the final sigma).
std::u32string toLower(const std::u32string& text) {
  icu::UnicodeString value = toIcu(text);
  value.toLower(icu::Locale::getRoot());
  return fromIcu(value);
}

// The reference mixes two notions of whitespace: str.strip() uses str.isspace() (White_Space plus U+001C..U+001F),
// while the `regex` module's \s, used to collapse runs and in the pre-tokeniser, is White_Space only.
bool isRegexSpace(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }
bool isPythonSpace(char32_t c) { return (c >= 0x1C && c <= 0x1F) || isRegexSpace(c); }

std::u32string strip(const std::u32string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && isPythonSpace(text[begin])) ++begin;
  while (end > begin && isPythonSpace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}
bool isLetter(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0; }
bool isNumber(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0; }

// ---- html.unescape ----------------------------------------------------------------------------------------------

// Python's html._invalid_charrefs: what a numeric reference to a C1 control (or NUL, CR) becomes.
char32_t replacementForCharref(uint32_t number, bool& replaced) {
  static const std::unordered_map<uint32_t, char32_t> kTable{
      {0x00, 0xFFFD}, {0x0d, 0x0D},   {0x80, 0x20AC}, {0x81, 0x81},   {0x82, 0x201A}, {0x83, 0x0192}, {0x84, 0x201E},
      {0x85, 0x2026}, {0x86, 0x2020}, {0x87, 0x2021}, {0x88, 0x02C6}, {0x89, 0x2030}, {0x8a, 0x0160}, {0x8b, 0x2039},
      {0x8c, 0x0152}, {0x8d, 0x8D},   {0x8e, 0x017D}, {0x8f, 0x8F},   {0x90, 0x90},   {0x91, 0x2018}, {0x92, 0x2019},
      {0x93, 0x201C}, {0x94, 0x201D}, {0x95, 0x2022}, {0x96, 0x2013}, {0x97, 0x2014}, {0x98, 0x02DC}, {0x99, 0x2122},
      {0x9a, 0x0161}, {0x9b, 0x203A}, {0x9c, 0x0153}, {0x9d, 0x9D},   {0x9e, 0x017E}, {0x9f, 0x0178}};
  const auto found = kTable.find(number);
  replaced = found != kTable.end();
  return replaced ? found->second : 0;
}

bool isInvalidCodepoint(uint32_t n) {
  return (n >= 0x1 && n <= 0x8) || n == 0xB || (n >= 0xE && n <= 0x1F) || (n >= 0x7F && n <= 0x9F) ||
         (n >= 0xFDD0 && n <= 0xFDEF) || (n & 0xFFFE) == 0xFFFE;
}

struct NamedEntities {
  std::unordered_map<std::u32string, std::u32string> with_semicolon;  // "amp;" -> "&"
  std::unordered_map<std::u32string, std::u32string> legacy;          // names valid without ';' ("amp")
};

const NamedEntities& namedEntities() {
  static const NamedEntities table = [] {
    NamedEntities t;
    const auto add = [&](const std::string& name, char32_t code, bool legacy) {
      std::u32string key(name.begin(), name.end());
      t.with_semicolon[key + U";"] = std::u32string(1, code);
      if (legacy) t.legacy[key] = std::u32string(1, code);
    };
    // Latin-1, U+00A0..U+00FF in order: HTML5 accepts these without the ';' too.
    std::istringstream latin1(
        "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 "
        "acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml "
        "Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde "
        "Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig "
        "ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide "
        "oslash ugrave uacute ucirc uuml yacute thorn yuml");
    char32_t code = 0xA0;
    for (std::string name; latin1 >> name; ++code) add(name, code, true);
    for (const auto& [name, value] : std::vector<std::pair<std::string, char32_t>>{
             {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"AMP", '&'}, {"LT", '<'}, {"GT", '>'},
             {"QUOT", '"'}, {"COPY", 0xA9}, {"REG", 0xAE}}) {
      add(name, value, true);
    }
    // Greek letters: U+0391.. and U+03B1.. (U+03A2 is unassigned; final sigma is U+03C2).
    std::istringstream greek(
        "Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho - Sigma Tau "
        "Upsilon Phi Chi Psi Omega");
    code = 0x391;
    for (std::string name; greek >> name; ++code) {
      if (name == "-") continue;
      add(name, code, false);
      std::string lower = name;
      lower[0] = static_cast<char>(lower[0] - 'A' + 'a');
      add(lower, code + 0x20, false);
    }
    for (const auto& [name, value] : std::vector<std::pair<std::string, char32_t>>{
             {"apos", '\''},     {"sigmaf", 0x3C2},  {"OElig", 0x152},  {"oelig", 0x153},  {"Scaron", 0x160},
             {"scaron", 0x161},  {"Yuml", 0x178},    {"fnof", 0x192},   {"circ", 0x2C6},   {"tilde", 0x2DC},
             {"ensp", 0x2002},   {"emsp", 0x2003},   {"thinsp", 0x2009}, {"zwnj", 0x200C}, {"zwj", 0x200D},
             {"lrm", 0x200E},    {"rlm", 0x200F},    {"ndash", 0x2013}, {"mdash", 0x2014}, {"lsquo", 0x2018},
             {"rsquo", 0x2019},  {"sbquo", 0x201A},  {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"bdquo", 0x201E},
             {"dagger", 0x2020}, {"Dagger", 0x2021}, {"bull", 0x2022},  {"hellip", 0x2026}, {"permil", 0x2030},
             {"prime", 0x2032},  {"Prime", 0x2033},  {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"euro", 0x20AC},
             {"trade", 0x2122},  {"larr", 0x2190},   {"uarr", 0x2191},  {"rarr", 0x2192},  {"darr", 0x2193},
             {"harr", 0x2194},   {"minus", 0x2212},  {"infin", 0x221E}, {"asymp", 0x2248}, {"ne", 0x2260},
             {"le", 0x2264},     {"ge", 0x2265},     {"spades", 0x2660}, {"clubs", 0x2663}, {"hearts", 0x2665},
             {"diams", 0x2666}}) {
      add(name, value, false);
    }
    return t;
  }();
  return table;
}

bool isAsciiDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool isHexDigit(char32_t c) { return isAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool isNameChar(char32_t c) { return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';'; }

// Replaces the reference starting after the '&' at `start`; returns the index after what was consumed.
size_t replaceReference(const std::u32string& text, size_t start, std::u32string& out) {
  size_t i = start;
  if (i < text.size() && text[i] == '#') {
    const bool hex = i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X');
    size_t digits = i + (hex ? 2 : 1);
    size_t end = digits;
    uint64_t number = 0;
    while (end < text.size() && (hex ? isHexDigit(text[end]) : isAsciiDigit(text[end]))) {
      const char32_t c = text[end];
      const uint64_t digit = isAsciiDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
      number = std::min<uint64_t>(number * (hex ? 16 : 10) + digit, 0x7FFFFFFF);  // anything past U+10FFFF is U+FFFD
      ++end;
    }
    if (end == digits) {  // "&#" without digits is not a reference
      out.push_back('&');
      return start;
    }
    if (end < text.size() && text[end] == ';') ++end;
    bool replaced = false;
    const char32_t special = replacementForCharref(static_cast<uint32_t>(number), replaced);
    if (replaced) {
      out.push_back(special);
    } else if ((number >= 0xD800 && number <= 0xDFFF) || number > 0x10FFFF) {
      out.push_back(0xFFFD);
    } else if (!isInvalidCodepoint(static_cast<uint32_t>(number))) {
      out.push_back(static_cast<char32_t>(number));
    }
    return end;
  }
  size_t end = i;
  while (end < text.size() && end - i < 32 && isNameChar(text[end])) ++end;
  if (end == i) {
    out.push_back('&');
    return start;
  }
  std::u32string name = text.substr(i, end - i);
  if (end < text.size() && text[end] == ';') {
    name.push_back(';');
    ++end;
  }
  const NamedEntities& entities = namedEntities();
  if (auto found = entities.with_semicolon.find(name); found != entities.with_semicolon.end()) {
    out += found->second;
    return end;
  }
  if (auto found = entities.legacy.find(name); found != entities.legacy.end()) {
    out += found->second;
    return end;
  }
  // The longest legacy name that starts the text (HTML5's rule for "&ampfoo").
  for (size_t length = name.size() - 1; length >= 2; --length) {
    if (auto found = entities.legacy.find(name.substr(0, length)); found != entities.legacy.end()) {
      out += found->second;
      out += name.substr(length);
      return end;
    }
  }
  out.push_back('&');
  out += name;
  return end;
}

bool startsWith(const std::u32string& text, size_t at, const std::u32string& prefix) {
  return text.compare(at, prefix.size(), prefix) == 0;
}

}  // namespace

std::u32string unescapeHtml(const std::u32string& text) {
  if (text.find(U'&') == std::u32string::npos) return text;
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    i = replaceReference(text, i + 1, out);
  }
  return out;
}

std::string cleanPrompt(const std::string& utf8) {
  std::u32string text = normalizeNfc(decodeUtf8(utf8));
  text = strip(unescapeHtml(unescapeHtml(text)));
  // regex's \s+ -> ' ', then strip() again.
  std::u32string collapsed;
  collapsed.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (isRegexSpace(text[i])) {
      collapsed.push_back(' ');
      while (i < text.size() && isRegexSpace(text[i])) ++i;
    } else {
      collapsed.push_back(text[i++]);
    }
  }
  return encodeUtf8(toLower(strip(collapsed)));
}

std::vector<std::string> preTokenize(const std::string& cleaned_utf8) {
  static const std::u32string kStart = U"<|startoftext|>";
  static const std::u32string kEnd = U"<|endoftext|>";
  static const std::array<std::u32string, 7> kContractions{U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"};
  const std::u32string text = decodeUtf8(cleaned_utf8);
  std::vector<std::string> pieces;
  size_t i = 0;
  const auto emit = [&](size_t begin, size_t end) {
    pieces.push_back(encodeUtf8(text, begin, end));
    i = end;
  };
  while (i < text.size()) {
    if (startsWith(text, i, kStart)) {
      emit(i, i + kStart.size());
      continue;
    }
    if (startsWith(text, i, kEnd)) {
      emit(i, i + kEnd.size());
      continue;
    }
    bool matched = false;
    for (const auto& contraction : kContractions) {
      if (startsWith(text, i, contraction)) {
        emit(i, i + contraction.size());
        matched = true;
        break;
      }
    }
    if (matched) continue;
    const char32_t c = text[i];
    size_t end = i + 1;
    if (isLetter(c)) {
      while (end < text.size() && isLetter(text[end])) ++end;
    } else if (isNumber(c)) {
      // one digit per piece
    } else if (!isRegexSpace(c)) {
      while (end < text.size() && !isRegexSpace(text[end]) && !isLetter(text[end]) && !isNumber(text[end])) ++end;
    } else {
      ++i;
      continue;
    }
    emit(i, end);
  }
  return pieces;
}

}  // namespace gesso::models::detail
