// The CLIP tokenizer against openai/CLIP's reference ids (golden/clip_tokenizer.json), context windows, a
// vocab.json + merges.txt round trip, and clear errors for a missing or malformed vocabulary.
#include "gesso/models/tokenizer.h"

#include "gesso/error.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>

using gesso::ErrorCode;
using gesso::GessoError;
using gesso::models::ClipTokenizer;

namespace {

std::string vocabPath() { return gesso::test::sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz"; }

nlohmann::json readJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

QString idsText(const std::vector<int64_t>& ids) {
  QStringList parts;
  for (int64_t id : ids) parts << QString::number(id);
  return parts.join(' ');
}

}  // namespace

class TokenizerTest : public QObject {
  Q_OBJECT

  std::optional<ClipTokenizer> tokenizer_;

  const ClipTokenizer& tokenizer() {
    if (!tokenizer_) tokenizer_ = ClipTokenizer::load(vocabPath());
    return *tokenizer_;
  }

 private slots:
  void loadsOpenAiVocabulary() {
    GESSO_REQUIRE_SHARED();
    const ClipTokenizer& clip = tokenizer();
    QCOMPARE(clip.vocabulary().size(), size_t(49408));
    QCOMPARE(clip.merges().size(), size_t(49152 - 256 - 2));
    QCOMPARE(clip.startOfText(), int64_t(49406));
    QCOMPARE(clip.endOfText(), int64_t(49407));
    QCOMPARE(clip.vocabulary()[0], std::string("!"));
    QCOMPARE(clip.vocabulary()[256], std::string("!</w>"));
  }

  void matchesReferenceIds_data() {
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<QString>("expected_with_special");
    if (!gesso::test::goldenAvailable()) return;
    const auto golden = readJson(gesso::test::goldenPath("clip_tokenizer.json"));
    int index = 0;
    for (const auto& entry : golden.at("cases")) {
      const auto prompt = entry.at("prompt").get<std::string>();
      QTest::newRow(qPrintable(QString("%1: %2").arg(index++).arg(QString::fromStdString(prompt).left(40))))
          << QString::fromStdString(prompt) << idsText(entry.at("ids").get<std::vector<int64_t>>())
          << idsText(entry.at("with_special").get<std::vector<int64_t>>());
    }
  }

  void matchesReferenceIds() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, prompt);
    QFETCH(QString, expected);
    QFETCH(QString, expected_with_special);
    const std::vector<int64_t> ids = tokenizer().encode(prompt.toStdString());
    QCOMPARE(idsText(ids), expected);

    // The window: start + ids[:75] + end, then padding (EOT for HF/SD1, 0 for open_clip).
    const QStringList with_special = expected_with_special.split(' ', Qt::SkipEmptyParts);
    for (const int64_t pad : {tokenizer().endOfText(), ClipTokenizer::kOpenClipPad}) {
      const std::vector<int64_t> window = tokenizer().encodeWindow(prompt.toStdString(), pad);
      QCOMPARE(window.size(), size_t(77));
      QCOMPARE(window.front(), int64_t(49406));
      if (with_special.size() <= 77) {
        for (int i = 0; i < with_special.size(); ++i) QCOMPARE(window[i], with_special[i].toLongLong());
        for (size_t i = with_special.size(); i < window.size(); ++i) QCOMPARE(window[i], pad);
      } else {  // truncated: the first 75 BPE ids, then end-of-text in the last slot
        for (int i = 0; i < 76; ++i) QCOMPARE(window[i], with_special[i].toLongLong());
        QCOMPARE(window[76], int64_t(49407));
      }
    }
  }

  void encodesBatches() {
    GESSO_REQUIRE_SHARED();
    const at::Tensor batch = tokenizer().encodeBatch({"a photo of a cat", ""}, ClipTokenizer::kOpenClipPad);
    QCOMPARE(batch.sizes(), (at::IntArrayRef{2, 77}));
    QCOMPARE(batch.scalar_type(), at::kLong);
    QCOMPARE(batch[0][6].item<int64_t>(), int64_t(49407));
    QCOMPARE(batch[1][1].item<int64_t>(), int64_t(49407));
    QCOMPARE(batch[1][2].item<int64_t>(), int64_t(0));
    QCOMPARE(at::argmax(batch, 1)[0].item<int64_t>(), int64_t(6));
  }

  void specialTokensInText() {
    GESSO_REQUIRE_SHARED();
    QCOMPARE(idsText(tokenizer().encode("a<|endoftext|>b")), idsText({320, 49407, 321}));
    QVERIFY(tokenizer().encode("&amp;amp;") == tokenizer().encode("&"));  // unescaped twice, as the reference
    QVERIFY(tokenizer().encode("&ampx") == tokenizer().encode("&x"));     // HTML5's legacy names without ';'
    QVERIFY(tokenizer().encode("&#65;&#x42;") == tokenizer().encode("ab"));
    QVERIFY(tokenizer().encode("cafe\xcc\x81") == tokenizer().encode("caf\xc3\xa9"));  // NFC
    QVERIFY(tokenizer().encode("\xc3\x89T\xc3\x89") == tokenizer().encode("\xc3\xa9t\xc3\xa9"));  // Unicode lower-case
  }

  void roundTripsThroughHuggingFaceFiles() {
    GESSO_REQUIRE_SHARED();
    const ClipTokenizer& clip = tokenizer();
    QTemporaryDir dir;
    {
      nlohmann::json vocab = nlohmann::json::object();
      for (size_t id = 0; id < clip.vocabulary().size(); ++id) vocab[clip.vocabulary()[id]] = id;
      std::ofstream(dir.filePath("vocab.json").toStdString()) << vocab.dump();
      std::ofstream merges(dir.filePath("merges.txt").toStdString());
      merges << "#version: 0.2\n";
      for (const auto& [first, second] : clip.merges()) merges << first << ' ' << second << '\n';
    }
    const ClipTokenizer reloaded = ClipTokenizer::load(dir.path().toStdString());
    QCOMPARE(reloaded.vocabulary(), clip.vocabulary());
    QCOMPARE(reloaded.merges().size(), clip.merges().size());
    QCOMPARE(reloaded.endOfText(), clip.endOfText());
    const auto golden = readJson(gesso::test::goldenPath("clip_tokenizer.json"));
    for (const auto& entry : golden.at("cases")) {
      const auto prompt = entry.at("prompt").get<std::string>();
      QCOMPARE(idsText(reloaded.encode(prompt)), idsText(entry.at("ids").get<std::vector<int64_t>>()));
    }
  }

  void missingVocabularyNamesThePath() {
    const std::string missing = "/nonexistent/folder/bpe_simple_vocab_16e6.txt.gz";
    try {
      (void)ClipTokenizer::load(missing);
      QFAIL("expected an error");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::FileNotFound);
      QVERIFY2(error.error().detail.find(missing) != std::string::npos, error.what());
    }
    QTemporaryDir dir;  // a folder without vocab.json
    try {
      (void)ClipTokenizer::load(dir.path().toStdString());
      QFAIL("expected an error");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::FileNotFound);
      QVERIFY2(error.error().detail.find("vocab.json") != std::string::npos, error.what());
    }
  }

  void rejectsMalformedInput() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("not_gzip.txt.gz").toStdString();
    std::ofstream(path) << "#version\nonly a few lines\n";
    QVERIFY_THROWS_EXCEPTION(GessoError, (void)ClipTokenizer::load(path));
    if (!gesso::test::goldenAvailable()) return;
    try {
      (void)tokenizer().encode("bad \xff utf-8");
      QFAIL("expected an error");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::InvalidArgument);
    }
  }
};

QTEST_GUILESS_MAIN(TokenizerTest)
#include "test_tokenizer.moc"
