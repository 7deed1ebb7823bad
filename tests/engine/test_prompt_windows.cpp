// 77-token windows as A1111 builds them, with a fake tokenizer whose ids are readable: the word "17" is id 1017,
// "," is the comma id 267, any other word is 5000 + its length. Covers padding, overflow, BREAK and comma backtracking.
// Then the same with the real CLIP tokenizer over the reference ids of golden/clip_tokenizer.json.
#include "gesso/prompt/token_windows.h"

#include "gesso/error.h"
#include "gesso/models/tokenizer.h"
#include "gesso/prompt/prompt_parser.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <string>
#include <vector>

using gesso::prompt::buildTokenWindows;
using gesso::prompt::kWindowLength;
using gesso::prompt::TokenWindows;
using gesso::prompt::WeightedText;
using gesso::prompt::WindowOptions;

namespace {

constexpr int64_t kStart = 49406;
constexpr int64_t kEnd = 49407;
constexpr int64_t kComma = 267;

std::vector<int64_t> fakeTokenize(const std::string& text) {
  std::vector<int64_t> ids;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    const bool numeric = std::all_of(word.begin(), word.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    ids.push_back(numeric ? 1000 + std::stoll(word) : 5000 + static_cast<int64_t>(word.size()));
    word.clear();
  };
  for (char c : text) {
    if (c == ',') {
      flush();
      ids.push_back(kComma);
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  return ids;
}

// "first first+1 ... last" as words.
std::string numbers(int first, int last) {
  std::string text;
  for (int i = first; i <= last; ++i) text += std::to_string(i) + " ";
  return text;
}

// The ids 1000+first .. 1000+last.
std::vector<int64_t> ids(int first, int last) {
  std::vector<int64_t> result;
  for (int i = first; i <= last; ++i) result.push_back(1000 + i);
  return result;
}

std::vector<int64_t> cat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The 77 ids A1111 gives a window holding `tokens`, padded after the end token with `pad`.
std::array<int64_t, kWindowLength> window(const std::vector<int64_t>& tokens, int64_t pad = kEnd) {
  std::array<int64_t, kWindowLength> result;
  result.fill(pad);
  result[0] = kStart;
  std::copy(tokens.begin(), tokens.end(), result.begin() + 1);
  result[tokens.size() + 1] = kEnd;
  return result;
}

TokenWindows build(const std::string& prompt, const WindowOptions& options = WindowOptions::clip()) {
  return buildTokenWindows(gesso::prompt::parseAttention(prompt), fakeTokenize, options);
}

QString describe(const std::array<int64_t, kWindowLength>& window) {
  QStringList items;
  for (int64_t id : window) items << QString::number(id);
  return items.join(' ');
}

// The prompt tokens of windows, in order: each window without start, end and padding.
std::vector<int64_t> contents(const TokenWindows& windows) {
  std::vector<int64_t> result;
  for (const auto& window : windows.ids) {
    const auto end = std::find(window.begin() + 1, window.end(), kEnd);
    result.insert(result.end(), window.begin() + 1, end);
  }
  return result;
}

gesso::prompt::Tokenizer realTokenizer(const gesso::models::ClipTokenizer& tokenizer) {
  return [&tokenizer](const std::string& text) { return tokenizer.encode(text); };
}

#define COMPARE_WINDOW(actual, expected) \
  QVERIFY2((actual) == (expected), qPrintable("got      " + describe(actual) + "\nexpected " + describe(expected)))

}  // namespace

class PromptWindowsTest : public QObject {
  Q_OBJECT

 private slots:
  void emptyPromptGivesOneWindow() {
    const TokenWindows windows = build("");
    QCOMPARE(windows.size(), int64_t(1));
    COMPARE_WINDOW(windows.ids[0], window({}));
    for (float w : windows.weights[0]) QCOMPARE(w, 1.0f);
    QCOMPARE(windows.token_count, int64_t(0));
    COMPARE_WINDOW(gesso::prompt::emptyTokenWindow().ids[0], window({}));
  }

  void shortPrompt() {
    const TokenWindows windows = build("1 2 3");
    QCOMPARE(windows.size(), int64_t(1));
    COMPARE_WINDOW(windows.ids[0], window(ids(1, 3)));
    QCOMPARE(windows.token_count, int64_t(3));
  }

  void windowBoundaries_data() {
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("windows");
    QTest::newRow("74") << 74 << 1;
    QTest::newRow("75") << 75 << 1;
    QTest::newRow("76") << 76 << 2;
    QTest::newRow("150") << 150 << 2;
    QTest::newRow("151") << 151 << 3;
    QTest::newRow("300") << 300 << 4;
  }

  void windowBoundaries() {
    QFETCH(int, tokens);
    QFETCH(int, windows);
    const TokenWindows result = build(numbers(1, tokens));
    QCOMPARE(result.size(), int64_t(windows));
    QCOMPARE(result.token_count, int64_t(tokens));
    for (int w = 0; w < windows; ++w) {
      const int first = 1 + 75 * w;
      COMPARE_WINDOW(result.ids[w], window(ids(first, std::min(tokens, first + 74))));
    }
  }

  void weightsFollowTokens() {
    // "1 (2 3:1.5) [4]" → weights 1, 1.5, 1.5, 1/1.1 on the tokens; 1 on start, end and padding.
    const TokenWindows windows = build("1 (2 3:1.5) [4]");
    QCOMPARE(windows.size(), int64_t(1));
    COMPARE_WINDOW(windows.ids[0], window(ids(1, 4)));
    std::array<float, kWindowLength> expected;
    expected.fill(1.0f);
    expected[2] = 1.5f;
    expected[3] = 1.5f;
    expected[4] = static_cast<float>(1.0 / 1.1);
    QVERIFY(windows.weights[0] == expected);
    // The tensors carry the same values.
    const at::Tensor id_tensor = windows.idsTensor();
    const at::Tensor weight_tensor = windows.weightsTensor();
    QVERIFY(id_tensor.sizes().vec() == (std::vector<int64_t>{1, 77}));
    QVERIFY(weight_tensor.sizes().vec() == (std::vector<int64_t>{1, 77}));
    QCOMPARE(id_tensor.scalar_type(), at::kLong);
    QCOMPARE(weight_tensor.scalar_type(), at::kFloat);
    QCOMPARE(id_tensor[0][4].item<int64_t>(), int64_t(1004));
    QCOMPARE(weight_tensor[0][4].item<float>(), static_cast<float>(1.0 / 1.1));
    QCOMPARE(weight_tensor[0][0].item<float>(), 1.0f);
  }

  void breakClosesWindow() {
    const TokenWindows windows = build("1 2 BREAK 3");
    QCOMPARE(windows.size(), int64_t(2));
    COMPARE_WINDOW(windows.ids[0], window(ids(1, 2)));
    COMPARE_WINDOW(windows.ids[1], window(ids(3, 3)));
    QCOMPARE(windows.token_count, int64_t(75 + 1));  // a closed window counts 75
  }

  void breakEdgeCases_data() {
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<int>("windows");
    QTest::addColumn<int>("token_count");
    QTest::newRow("leading BREAK: an empty window first") << "BREAK 1" << 2 << 76;
    QTest::newRow("trailing BREAK: no extra window") << "1 BREAK" << 1 << 75;
    QTest::newRow("BREAK alone") << "BREAK" << 1 << 75;
    QTest::newRow("two BREAKs") << "1 BREAK BREAK 2" << 3 << 151;
    QTest::newRow("BREAK after a full window") << QString::fromStdString(numbers(1, 75) + "BREAK 76") << 2 << 76;
  }

  void breakEdgeCases() {
    QFETCH(QString, prompt);
    QFETCH(int, windows);
    QFETCH(int, token_count);
    const TokenWindows result = build(prompt.toStdString());
    QCOMPARE(result.size(), int64_t(windows));
    QCOMPARE(result.token_count, int64_t(token_count));
  }

  void leadingBreakWindowIsEmpty() {
    const TokenWindows windows = build("BREAK 1");
    COMPARE_WINDOW(windows.ids[0], window({}));
    COMPARE_WINDOW(windows.ids[1], window(ids(1, 1)));
  }

  void commaBacktrackMovesTail() {
    // 60 words, a comma (index 60 of the window), then 20 words: the window fills at word 74 and word 75 arrives with
    // the comma 15 ≤ 20 tokens from the end, so words 61..74 move to the second window.
    const std::string prompt = numbers(1, 60) + ", (" + numbers(61, 62) + ") " + numbers(63, 80);
    const TokenWindows windows = build(prompt);
    QCOMPARE(windows.size(), int64_t(2));
    COMPARE_WINDOW(windows.ids[0], window(cat(ids(1, 60), {kComma})));
    COMPARE_WINDOW(windows.ids[1], window(ids(61, 80)));
    // The moved tokens keep their weights; the first window's freed places weigh 1.
    QCOMPARE(windows.weights[1][1], 1.1f);
    QCOMPARE(windows.weights[1][2], 1.1f);
    QCOMPARE(windows.weights[1][3], 1.0f);
    for (int i = 62; i < kWindowLength; ++i) QCOMPARE(windows.weights[0][i], 1.0f);
    QCOMPARE(windows.token_count, int64_t(75 + 20));
  }

  void commaBacktrackUsesLastComma() {
    const std::string prompt = numbers(1, 50) + "," + numbers(51, 55) + "," + numbers(56, 90);
    const TokenWindows windows = build(prompt);
    // Window indices: words 1..50 at 0..49, a comma at 50, words 51..55, a comma at 56 (19 from the end): cut there.
    QCOMPARE(windows.size(), int64_t(2));
    COMPARE_WINDOW(windows.ids[0], window(cat(cat(cat(ids(1, 50), {kComma}), ids(51, 55)), {kComma})));
    COMPARE_WINDOW(windows.ids[1], window(ids(56, 90)));
  }

  void commaTooFarIsIgnored() {
    // Comma at index 50: 75 - 50 = 25 > 20, so the window is cut at 75 tokens.
    const std::string prompt = numbers(1, 50) + "," + numbers(51, 80);
    const TokenWindows windows = build(prompt);
    QCOMPARE(windows.size(), int64_t(2));
    COMPARE_WINDOW(windows.ids[0], window(cat(cat(ids(1, 50), {kComma}), ids(51, 74))));
    COMPARE_WINDOW(windows.ids[1], window(ids(75, 80)));
  }

  void commaAtExactLimit() {
    // Comma at index 55: 75 - 55 = 20 ≤ 20 moves; at index 54 (21) it does not.
    {
      const TokenWindows windows = build(numbers(1, 55) + "," + numbers(56, 80));
      COMPARE_WINDOW(windows.ids[0], window(cat(ids(1, 55), {kComma})));
      COMPARE_WINDOW(windows.ids[1], window(ids(56, 80)));
    }
    {
      const TokenWindows windows = build(numbers(1, 54) + "," + numbers(55, 80));
      COMPARE_WINDOW(windows.ids[0], window(cat(cat(ids(1, 54), {kComma}), ids(55, 74))));
      COMPARE_WINDOW(windows.ids[1], window(ids(75, 80)));
    }
  }

  void backtrackDisabledOrWidened() {
    const std::string prompt = numbers(1, 60) + "," + numbers(61, 80);
    WindowOptions off = WindowOptions::clip();
    off.comma_padding_backtrack = 0;
    const TokenWindows plain = build(prompt, off);
    COMPARE_WINDOW(plain.ids[0], window(cat(cat(ids(1, 60), {kComma}), ids(61, 74))));

    // With 10, the comma 15 tokens from the end is too far.
    WindowOptions narrow = WindowOptions::clip();
    narrow.comma_padding_backtrack = 10;
    COMPARE_WINDOW(build(prompt, narrow).ids[0], plain.ids[0]);
  }

  void commaAtFullWindowIsForgotten() {
    // The comma arrives when the window is full: it opens the next window and, as in A1111, is not remembered, so
    // even a backtrack of 75 does not cut the second window after it.
    WindowOptions wide = WindowOptions::clip();
    wide.comma_padding_backtrack = 75;
    const TokenWindows windows = build(numbers(1, 75) + "," + numbers(76, 150), wide);
    QCOMPARE(windows.size(), int64_t(3));
    COMPARE_WINDOW(windows.ids[0], window(ids(1, 75)));
    COMPARE_WINDOW(windows.ids[1], window(cat({kComma}, ids(76, 149))));
    COMPARE_WINDOW(windows.ids[2], window(ids(150, 150)));
  }

  void breakForgetsComma() {
    // A comma before a BREAK is forgotten: even a backtrack of 75 does not cut the next window after index 1.
    WindowOptions wide = WindowOptions::clip();
    wide.comma_padding_backtrack = 75;
    const TokenWindows windows = build("1 , BREAK " + numbers(2, 80), wide);
    QCOMPARE(windows.size(), int64_t(3));
    COMPARE_WINDOW(windows.ids[0], window({1001, kComma}));
    COMPARE_WINDOW(windows.ids[1], window(ids(2, 76)));
    COMPARE_WINDOW(windows.ids[2], window(ids(77, 80)));
  }

  void openClipPadsWithZero() {
    const WindowOptions open_clip = WindowOptions::openClip();
    const TokenWindows short_prompt = build("1 2", open_clip);
    COMPARE_WINDOW(short_prompt.ids[0], window(ids(1, 2), 0));
    QCOMPARE(short_prompt.ids[0][3], kEnd);
    QCOMPARE(short_prompt.ids[0][4], int64_t(0));
    QCOMPARE(short_prompt.ids[0][76], int64_t(0));

    const TokenWindows full = build(numbers(1, 75), open_clip);
    COMPARE_WINDOW(full.ids[0], window(ids(1, 75), 0));
    QCOMPARE(full.ids[0][76], kEnd);

    const TokenWindows empty = gesso::prompt::emptyTokenWindow(open_clip);
    QCOMPARE(empty.ids[0][0], kStart);
    QCOMPARE(empty.ids[0][1], kEnd);
    QCOMPARE(empty.ids[0][2], int64_t(0));

    // After a comma cut the freed places are padding too.
    const TokenWindows cut = build(numbers(1, 60) + "," + numbers(61, 80), open_clip);
    COMPARE_WINDOW(cut.ids[0], window(cat(ids(1, 60), {kComma}), 0));
  }

  void tokenizesEachRunSeparately() {
    // A weight boundary is a tokenizer boundary: the tokenizer sees "a ", "b" and " c", never "a b c".
    std::vector<std::string> seen;
    auto recording = [&](const std::string& text) {
      seen.push_back(text);
      return fakeTokenize(text);
    };
    buildTokenWindows(gesso::prompt::parseAttention("a (b) c"), recording);
    QCOMPARE(seen, (std::vector<std::string>{"a ", "b", " c"}));
  }

  void rejectsBadOptions() {
    WindowOptions options = WindowOptions::clip();
    options.comma_padding_backtrack = -1;
    auto throwsInvalidArgument = [](auto&& body) {
      try {
        body();
      } catch (const gesso::GessoError& error) {
        return error.error().code == gesso::ErrorCode::InvalidArgument;
      }
      return false;
    };
    QVERIFY(throwsInvalidArgument([&] { buildTokenWindows({}, fakeTokenize, options); }));
    options.comma_padding_backtrack = 76;
    QVERIFY(throwsInvalidArgument([&] { buildTokenWindows({}, fakeTokenize, options); }));
    QVERIFY(throwsInvalidArgument([&] { buildTokenWindows({}, gesso::prompt::Tokenizer()); }));
  }

  // ---- The real CLIP tokenizer ----

  void realTokenizerMatchesReferenceWindows() {
    // Every reference prompt as one unweighted run: the windows hold exactly the reference ids, and a prompt of at
    // most 75 tokens gives the reference's own padded window (49407 for CLIP, 0 for OpenCLIP).
    GESSO_REQUIRE_SHARED();
    const auto tokenizer =
        gesso::models::ClipTokenizer::load(gesso::test::sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz");
    QCOMPARE(tokenizer.encode(","), (std::vector<int64_t>{WindowOptions::clip().comma_id}));
    std::ifstream in(gesso::test::goldenPath("clip_tokenizer.json"));
    const auto golden = nlohmann::json::parse(in);
    int long_cases = 0;
    for (const auto& entry : golden.at("cases")) {
      const std::string prompt = entry.at("prompt");
      const auto ids = entry.at("ids").get<std::vector<int64_t>>();
      for (const WindowOptions& options : {WindowOptions::clip(), WindowOptions::openClip()}) {
        const TokenWindows windows = buildTokenWindows({{prompt, 1.0f, false}}, realTokenizer(tokenizer), options);
        QVERIFY2(contents(windows) == ids, prompt.c_str());
        QCOMPARE(windows.token_count, int64_t(ids.size()));
        if (ids.size() <= 75) {
          QCOMPARE(windows.size(), int64_t(1));
          const auto reference = tokenizer.encodeWindow(prompt, options.pad_id);
          QVERIFY2(std::equal(reference.begin(), reference.end(), windows.ids[0].begin()), prompt.c_str());
          const auto with_special = entry.at("with_special").get<std::vector<int64_t>>();
          QVERIFY2(std::equal(with_special.begin(), with_special.end(), windows.ids[0].begin()), prompt.c_str());
        } else {
          ++long_cases;
          // "a very ... very long prompt" (83 tokens, no comma): 75 tokens, then the other 8.
          QCOMPARE(windows.size(), int64_t(2));
          COMPARE_WINDOW(windows.ids[0],
                         window(std::vector<int64_t>(ids.begin(), ids.begin() + 75), options.pad_id));
          COMPARE_WINDOW(windows.ids[1], window(std::vector<int64_t>(ids.begin() + 75, ids.end()), options.pad_id));
        }
      }
    }
    QCOMPARE(long_cases, 2);  // the one long case, with both pads
  }

  void realTokenizerWeights() {
    // The reference ids of "a red circle on a blue background" with weights on "red" and "blue".
    GESSO_REQUIRE_SHARED();
    const auto tokenizer =
        gesso::models::ClipTokenizer::load(gesso::test::sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz");
    const TokenWindows windows = buildTokenWindows(
        gesso::prompt::parseAttention("a (red:1.3) circle on a [blue] background"), realTokenizer(tokenizer));
    COMPARE_WINDOW(windows.ids[0], window({320, 736, 7117, 525, 320, 1746, 5994}));
    const std::vector<float> expected{1.0f, 1.0f, 1.3f, 1.0f, 1.0f, 1.0f, static_cast<float>(1.0 / 1.1), 1.0f, 1.0f};
    QVERIFY(std::equal(expected.begin(), expected.end(), windows.weights[0].begin()));
  }

  void realTokenizerCommaBacktrack() {
    // "a cat " + 6 × "masterpiece, best quality, 1girl, solo, looking at viewer" joined by ", ": 85 tokens. The window
    // fills with "best" (index 74) after a comma at index 73, so when "quality" comes, "best" moves to window 2.
    GESSO_REQUIRE_SHARED();
    const auto tokenizer =
        gesso::models::ClipTokenizer::load(gesso::test::sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz");
    std::string prompt = "a cat ";
    for (int i = 0; i < 6; ++i) prompt += std::string(i ? ", " : "") + "masterpiece, best quality, 1girl, solo, looking at viewer";
    const auto ids = tokenizer.encode(prompt);
    QCOMPARE(ids.size(), size_t(85));
    QCOMPARE(ids[73], int64_t(267));  // ","
    QCOMPARE(ids[74], int64_t(949));  // "best"
    const TokenWindows windows = buildTokenWindows({{prompt, 1.0f, false}}, realTokenizer(tokenizer));
    QCOMPARE(windows.size(), int64_t(2));
    QVERIFY(contents(windows) == ids);
    COMPARE_WINDOW(windows.ids[0], window(std::vector<int64_t>(ids.begin(), ids.begin() + 74)));
    COMPARE_WINDOW(windows.ids[1], window(std::vector<int64_t>(ids.begin() + 74, ids.end())));
    // Without backtracking the first window is full.
    WindowOptions off = WindowOptions::clip();
    off.comma_padding_backtrack = 0;
    const TokenWindows plain = buildTokenWindows({{prompt, 1.0f, false}}, realTokenizer(tokenizer), off);
    QCOMPARE(plain.ids[0][76], kEnd);
    QVERIFY(std::equal(ids.begin(), ids.begin() + 75, plain.ids[0].begin() + 1));
  }
};

QTEST_GUILESS_MAIN(PromptWindowsTest)
#include "test_prompt_windows.moc"
