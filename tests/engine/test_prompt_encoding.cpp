// Weighted prompts end to end on the tiny reference CLIP (golden/text_clip_tiny): the real tokenizer's windows, the
// real encoder, the weights with the mean restored, against the reference's hidden states; plus a fake encoder.
#include "gesso/prompt/prompt_encoding.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/clip_text.h"
#include "gesso/models/text_config.h"
#include "gesso/models/tokenizer.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using gesso::models::ClipTokenizer;
using gesso::models::TextEncoder;
using gesso::prompt::encodePrompt;
using gesso::prompt::parseAttention;
using gesso::prompt::WindowOptions;

namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The tiny SD1.x text encoder with its golden weights (F16 values cast to float32).
TextEncoder tinyClip() {
  torch::NoGradGuard no_grad;
  TextEncoder encoder(gesso::models::textConfigFromHfJson(readText(gesso::test::goldenPath("text_clip_tiny.config.json"))),
                      at::TensorOptions().dtype(at::kFloat));
  const auto file = gesso::test::openGolden("text_clip_tiny.safetensors");
  for (auto& item : encoder->named_parameters()) item.value().copy_(file->tensor("cond_stage_model.transformer." + item.key()));
  return encoder;
}

// The reference's case0 prompts (GOLDENS.md): "a photo of a cat", "", "masterpiece, best quality, a red circle ...".
const char* const kCase0[] = {"a photo of a cat", "", "masterpiece, best quality, a red circle on a blue background"};

}  // namespace

class PromptEncodingTest : public QObject {
  Q_OBJECT

 private slots:
  void unweightedPromptIsTheReferenceOutput() {
    // With every weight 1 the emphasis changes nothing: the context is the reference's last hidden state.
    GESSO_REQUIRE_SHARED();
    torch::NoGradGuard no_grad;
    const auto tokenizer = ClipTokenizer::load(gesso::test::sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz");
    TextEncoder encoder = tinyClip();
    const auto io = gesso::test::openGolden("text_clip_tiny_io.safetensors");
    const at::Tensor ids = gesso::test::goldenTensor(*io, "case0/input_ids");
    const at::Tensor expected = gesso::test::goldenTensor(*io, "case0/last_hidden_state");
    for (int i = 0; i < 3; ++i) {
      const auto encoded = encodePrompt(parseAttention(kCase0[i]), [&](const std::string& t) { return tokenizer.encode(t); },
                                        [&](const at::Tensor& window_ids) { return encoder->forward(window_ids).last_hidden_state; });
      QVERIFY(at::equal(encoded.windows.idsTensor(), ids.narrow(0, i, 1)));
      GESSO_COMPARE_TENSORS(QString("case0[%1] context").arg(i), encoded.context, expected.narrow(0, i, 1), 1e-4, 1e-4);
    }
  }

  void weightedPromptOnReferenceOutput() {
    // "a (photo:1.3) of a [cat]": the reference's hidden state of "a photo of a cat" with token 2 × 1.3, token 5 × 1/1.1,
    // then scaled so its mean is the reference's mean.
    GESSO_REQUIRE_SHARED();
    torch::NoGradGuard no_grad;
    const auto tokenizer = ClipTokenizer::load(gesso::test::sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz");
    TextEncoder encoder = tinyClip();
    const auto io = gesso::test::openGolden("text_clip_tiny_io.safetensors");
    const at::Tensor z = gesso::test::goldenTensor(*io, "case0/last_hidden_state").narrow(0, 0, 1);  // [1, 77, 64]
    at::Tensor weights = at::ones({1, 77, 1});
    weights[0][2][0] = 1.3f;
    weights[0][5][0] = static_cast<float>(1.0 / 1.1);
    const at::Tensor weighted = z * weights;
    const at::Tensor expected = weighted * (z.mean() / weighted.mean());

    const auto encoded = encodePrompt(parseAttention("a (photo:1.3) of a [cat]"),
                                      [&](const std::string& t) { return tokenizer.encode(t); },
                                      [&](const at::Tensor& window_ids) { return encoder->forward(window_ids).last_hidden_state; });
    GESSO_COMPARE_TENSORS("weighted context", encoded.context, expected, 1e-4, 1e-4);
    QVERIFY(std::abs(encoded.context.mean().item<double>() - z.mean().item<double>()) < 1e-6);
  }

  void longPromptFirstWindowIsTheReferenceWindow() {
    // case1[1] is 83 tokens; the reference truncates it to one window, which must be our first window (causal
    // attention: the first window does not see the second). Our second window holds the last 8 tokens.
    GESSO_REQUIRE_SHARED();
    torch::NoGradGuard no_grad;
    const auto tokenizer = ClipTokenizer::load(gesso::test::sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz");
    TextEncoder encoder = tinyClip();
    const auto io = gesso::test::openGolden("text_clip_tiny_io.safetensors");
    std::string prompt = "a ";
    for (int i = 0; i < 80; ++i) prompt += "very ";
    prompt += "long prompt";
    const auto encoded = encodePrompt(parseAttention(prompt), [&](const std::string& t) { return tokenizer.encode(t); },
                                      [&](const at::Tensor& window_ids) { return encoder->forward(window_ids).last_hidden_state; });
    QCOMPARE(encoded.windows.size(), int64_t(2));
    QVERIFY(encoded.context.sizes().vec() == (std::vector<int64_t>{1, 154, 64}));
    QVERIFY(at::equal(encoded.windows.idsTensor().narrow(0, 0, 1), gesso::test::goldenTensor(*io, "case1/input_ids").narrow(0, 1, 1)));
    GESSO_COMPARE_TENSORS("long prompt window 0", encoded.context.narrow(1, 0, 77),
                          gesso::test::goldenTensor(*io, "case1/last_hidden_state").narrow(0, 1, 1), 1e-4, 1e-4);
  }

  void fakeEncoderComposition() {
    // A fake encoder (value = id / 1000 in every channel): encodePrompt = applyEmphasis(encoder(ids), weights).
    auto tokenize = [](const std::string& text) {
      std::vector<int64_t> ids;
      for (char c : text)
        if (c != ' ') ids.push_back(static_cast<unsigned char>(c));
      return ids;
    };
    int calls = 0;
    auto encode = [&](const at::Tensor& ids) {
      ++calls;
      return (ids.to(at::kFloat) / 1000.0).unsqueeze(-1).expand({ids.size(0), 77, 3}).contiguous();  // [windows, 77, 3]
    };
    const auto encoded = encodePrompt(parseAttention("ab (c:2) BREAK d"), tokenize, encode, WindowOptions::openClip());
    QCOMPARE(calls, 1);  // every window in one encoder call
    QCOMPARE(encoded.windows.size(), int64_t(2));
    const at::Tensor z = encode(encoded.windows.idsTensor());
    QVERIFY(at::allclose(encoded.context, gesso::prompt::applyEmphasis(z, encoded.windows.weightsTensor())));
    QCOMPARE(encoded.windows.ids[1][1], int64_t('d'));
    QCOMPARE(encoded.windows.ids[1][3], int64_t(0));  // OpenCLIP padding

    // An encoder that returns the wrong shape is a ShapeMismatch, not a crash.
    try {
      encodePrompt(parseAttention("a"), tokenize, [](const at::Tensor&) { return at::zeros({1, 76, 3}); });
      QFAIL("no error");
    } catch (const gesso::GessoError& error) {
      QCOMPARE(error.error().code, gesso::ErrorCode::ShapeMismatch);
    }
  }
};

QTEST_GUILESS_MAIN(PromptEncodingTest)
#include "test_prompt_encoding.moc"
