// The CLIP text encoders (HF and open_clip layouts) and SDXL's conditioner against the reference goldens
// (golden/text_*): every hidden state, last/penultimate outputs, pooled vectors, crossattn and vector; the
// token ids of the goldens against our tokenizer; config parsing; clip skip.
#include "gesso/models/clip_text.h"
#include "gesso/models/sdxl_conditioning.h"
#include "gesso/models/text_config.h"
#include "gesso/models/tokenizer.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/nn/layers.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>

using gesso::ErrorCode;
using gesso::GessoError;
using gesso::TextEncoderConfig;
using gesso::TextOutputLayer;
using gesso::io::SafetensorsFile;
using gesso::models::ClipTokenizer;
using gesso::models::TextEncoder;
using gesso::models::TextEncoderOutput;

namespace {

constexpr double kTolerance = 1e-4;

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

nlohmann::json readJson(const std::string& name) { return nlohmann::json::parse(readText(gesso::test::goldenPath(name))); }

// Copies every parameter from `prefix + name` (F16 in the goldens, converted by copy_) and fails on any tensor
// under the prefix that is neither a parameter nor an optional key.
void loadWeights(TextEncoder& encoder, const SafetensorsFile& file, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  for (auto& item : encoder->named_parameters()) {
    const std::string key = prefix + item.key();
    if (!file.contains(key)) throw GessoError(ErrorCode::MissingKey, "missing " + key);
    const at::Tensor value = file.tensor(key);
    if (value.sizes() != item.value().sizes()) throw GessoError(ErrorCode::ShapeMismatch, "shape of " + key);
    item.value().copy_(value);
    used.insert(key);
  }
  for (const auto& info : file.tensors()) {
    if (info.name.rfind(prefix, 0) != 0 || used.count(info.name)) continue;
    if (!gesso::models::isOptionalTextEncoderKey(info.name.substr(prefix.size()))) {
      throw GessoError(ErrorCode::UnexpectedKey, "unexpected " + info.name);
    }
  }
}

TextEncoder hfEncoder(const std::string& config_file, const std::string& weights, const std::string& prefix) {
  TextEncoder encoder(gesso::models::textConfigFromHfJson(readText(gesso::test::goldenPath(config_file))),
                      at::TensorOptions().dtype(at::kFloat));
  loadWeights(encoder, *gesso::test::openGolden(weights), prefix);
  return encoder;
}

TextEncoder openClipEncoder(const std::string& config_file, const std::string& weights, const std::string& prefix) {
  TextEncoder encoder(gesso::models::textConfigFromOpenClipJson(readText(gesso::test::goldenPath(config_file))),
                      at::TensorOptions().dtype(at::kFloat));
  loadWeights(encoder, *gesso::test::openGolden(weights), prefix);
  return encoder;
}

const ClipTokenizer& tokenizer() {
  static const ClipTokenizer instance =
      ClipTokenizer::load(gesso::test::sharedDir() + "/data/clip/bpe_simple_vocab_16e6.txt.gz");
  return instance;
}

std::vector<std::string> prompts(const nlohmann::json& golden, const std::string& case_name) {
  return golden.at("cases").at(case_name).at("prompts").get<std::vector<std::string>>();
}

// The ids in a golden file must be exactly what our tokenizer gives the same prompts.
bool idsMatch(const at::Tensor& golden_ids, const std::vector<std::string>& texts, int64_t pad) {
  const at::Tensor ours = tokenizer().encodeBatch(texts, pad);
  const bool same = ours.sizes() == golden_ids.sizes() && at::equal(ours, golden_ids);
  if (!same) qWarning() << "token ids differ from the golden's";
  return same;
}

// Runs `encoder` on case `case_name`'s input_ids in `io` into `out`, after checking those ids against our tokenizer
// (the case's prompts in golden `prompts_json`, padded with `pad`) and the case's eot_index, and compares every hidden
// state with the golden. The caller stops when QTest::currentTestFailed().
void forwardGoldenCase(TextEncoder& encoder, const SafetensorsFile& io, const QString& case_name,
                       const std::string& prompts_json, int64_t pad, TextEncoderOutput& out) {
  const std::string c = case_name.toStdString() + "/";
  const at::Tensor ids = gesso::test::goldenTensor(io, c + "input_ids");
  QVERIFY(idsMatch(ids, prompts(readJson(prompts_json), case_name.toStdString()), pad));
  QVERIFY(at::equal(ids.argmax(-1), gesso::test::goldenTensor(io, c + "eot_index")));

  out = encoder->forward(ids);
  QCOMPARE(out.hidden_states.size(), size_t(4));
  for (size_t i = 0; i < out.hidden_states.size(); ++i) {
    const std::string name = c + "hidden_states/" + std::to_string(i);
    GESSO_COMPARE_TENSORS(QString::fromStdString(name), out.hidden_states[i], gesso::test::goldenTensor(io, name),
                          kTolerance, kTolerance);
  }
}

void addCases() {
  QTest::addColumn<QString>("case_name");
  QTest::newRow("case0") << "case0";
  QTest::newRow("case1") << "case1";
}

}  // namespace

class TextEncodersTest : public QObject {
  Q_OBJECT

 private slots:
  void clipTiny_data() { addCases(); }
  void clipTiny() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, case_name);
    const std::string c = case_name.toStdString() + "/";
    TextEncoder encoder = hfEncoder("text_clip_tiny.config.json", "text_clip_tiny.safetensors", "cond_stage_model.transformer.");
    const auto io = gesso::test::openGolden("text_clip_tiny_io.safetensors");
    torch::NoGradGuard no_grad;
    TextEncoderOutput out;
    forwardGoldenCase(encoder, *io, case_name, "text_clip_tiny.json", 49407, out);
    if (QTest::currentTestFailed()) return;
    GESSO_COMPARE_TENSORS(case_name + "/last_hidden_state", out.last_hidden_state,
                          gesso::test::goldenTensor(*io, c + "last_hidden_state"), kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/penultimate_hidden_state", out.penultimate_hidden_state,
                          gesso::test::goldenTensor(*io, c + "penultimate_hidden_state"), kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/pooler_output", out.pooler_output,
                          gesso::test::goldenTensor(*io, c + "pooler_output"), kTolerance, kTolerance);
    QVERIFY(!out.pooled.defined());  // CLIPTextModel: no projection
    // SD1.x uses the last layer; "clip skip 2" is the final LayerNorm over the penultimate layer.
    GESSO_COMPARE_TENSORS(case_name + "/conditioning(Last)", encoder->conditioning(out),
                          gesso::test::goldenTensor(*io, c + "last_hidden_state"), kTolerance, kTolerance);
    QVERIFY(at::equal(encoder->conditioning(out, TextOutputLayer::Last, 2),
                      encoder->finalLayerNorm(out.penultimate_hidden_state)));
  }

  void openClipTiny_data() { addCases(); }
  void openClipTiny() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, case_name);
    const std::string c = case_name.toStdString() + "/";
    TextEncoder encoder =
        openClipEncoder("text_openclip_tiny.open_clip.json", "text_openclip_tiny.safetensors", "cond_stage_model.model.");
    const auto io = gesso::test::openGolden("text_openclip_tiny_io.safetensors");
    torch::NoGradGuard no_grad;
    TextEncoderOutput out;
    forwardGoldenCase(encoder, *io, case_name, "text_openclip_tiny.json", 0, out);
    if (QTest::currentTestFailed()) return;
    GESSO_COMPARE_TENSORS(case_name + "/last", out.last_hidden_state, gesso::test::goldenTensor(*io, c + "last"),
                          kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/penultimate", out.penultimate_hidden_state,
                          gesso::test::goldenTensor(*io, c + "penultimate"), kTolerance, kTolerance);
    // What SD2.x feeds the UNet.
    GESSO_COMPARE_TENSORS(case_name + "/penultimate_ln", encoder->conditioning(out, TextOutputLayer::PenultimateNormed),
                          gesso::test::goldenTensor(*io, c + "penultimate_ln"), kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/penultimate_ln (clip skip 2)",
                          encoder->conditioning(out, TextOutputLayer::PenultimateNormed, 2),
                          gesso::test::goldenTensor(*io, c + "penultimate_ln"), kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/pooled", out.pooled, gesso::test::goldenTensor(*io, c + "pooled"), kTolerance,
                          kTolerance);
  }

  void sdxlTiny_data() { addCases(); }
  void sdxlTiny() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, case_name);
    const std::string c = case_name.toStdString() + "/";
    TextEncoder embedder0 = hfEncoder("text_sdxl_tiny.embedder0.config.json", "text_sdxl_tiny.safetensors",
                                      "conditioner.embedders.0.transformer.");
    TextEncoder embedder1 = openClipEncoder("text_sdxl_tiny.embedder1.open_clip.json", "text_sdxl_tiny.safetensors",
                                            "conditioner.embedders.1.model.");
    const auto io = gesso::test::openGolden("text_sdxl_tiny_io.safetensors");
    const auto texts = prompts(readJson("text_sdxl_tiny.json"), case_name.toStdString());
    const at::Tensor ids0 = gesso::test::goldenTensor(*io, c + "emb0/input_ids");
    const at::Tensor ids1 = gesso::test::goldenTensor(*io, c + "emb1/input_ids");
    QVERIFY(idsMatch(ids0, texts, 49407));
    QVERIFY(idsMatch(ids1, texts, 0));
    const auto golden = [&](const std::string& name) { return gesso::test::goldenTensor(*io, c + name); };

    torch::NoGradGuard no_grad;
    const TextEncoderOutput out0 = embedder0->forward(ids0);
    const TextEncoderOutput out1 = embedder1->forward(ids1);
    GESSO_COMPARE_TENSORS(case_name + "/emb0/hidden", embedder0->conditioning(out0, TextOutputLayer::Penultimate),
                          golden("emb0/hidden"), kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/emb1/penultimate", embedder1->conditioning(out1, TextOutputLayer::Penultimate),
                          golden("emb1/penultimate"), kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/emb1/last", out1.last_hidden_state, golden("emb1/last"), kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/emb1/pooled", out1.pooled, golden("emb1/pooled"), kTolerance, kTolerance);

    const gesso::models::SdxlSizeConditions sizes{golden("original_size_as_tuple"), golden("crop_coords_top_left"),
                                                  golden("target_size_as_tuple")};
    const auto conditioning = gesso::models::sdxlConditioning(*embedder0, *embedder1, ids0, ids1, sizes);
    GESSO_COMPARE_TENSORS(case_name + "/crossattn", conditioning.crossattn, golden("crossattn"), kTolerance, kTolerance);
    GESSO_COMPARE_TENSORS(case_name + "/vector", conditioning.vector, golden("vector"), kTolerance, kTolerance);
    // clip skip 2 is SDXL's default layer (penultimate, no LayerNorm).
    const auto skipped = gesso::models::sdxlConditioning(*embedder0, *embedder1, ids0, ids1, sizes, 2);
    QVERIFY(at::equal(skipped.crossattn, conditioning.crossattn));
  }

  void clipSkipSelectsLayers() {
    TextEncoderConfig config;
    config.width = 16, config.layers = 3, config.heads = 2, config.mlp_width = 32, config.vocab_size = 100;
    TextEncoder encoder(config, at::TensorOptions().dtype(at::kFloat));
    gesso::nn::fillRandomWeights(*encoder, 7);
    torch::NoGradGuard no_grad;
    const at::Tensor ids = at::tensor({1, 5, 99, 0, 0}, at::kLong).view({1, 5});
    const TextEncoderOutput out = encoder->forward(ids);
    QVERIFY(at::equal(encoder->conditioning(out, TextOutputLayer::Last, 1), out.last_hidden_state));
    QVERIFY(at::equal(encoder->conditioning(out, TextOutputLayer::Penultimate, 3), out.hidden_states[1]));
    QVERIFY(at::equal(encoder->conditioning(out, TextOutputLayer::Penultimate), out.penultimate_hidden_state));
    QVERIFY(at::equal(out.penultimate_hidden_state, out.hidden_states[2]));
    QVERIFY(at::equal(out.pooler_output[0], out.last_hidden_state[0][2]));  // the highest id marks end-of-text
    QVERIFY_THROWS_EXCEPTION(GessoError, encoder->conditioning(out, TextOutputLayer::Last, 4));
    QVERIFY_THROWS_EXCEPTION(GessoError, encoder->forward(at::zeros({1, 78}, at::kLong)));
    QVERIFY_THROWS_EXCEPTION(GessoError, encoder->forward(at::full({1, 3}, 100, at::kLong)));
    // The causal mask: a token never sees those after it.
    const at::Tensor other = ids.clone();
    other[0][4] = 42;
    QVERIFY(at::allclose(encoder->forward(other).hidden_states[3].slice(1, 0, 4), out.hidden_states[3].slice(1, 0, 4)));
  }

  void hfProjectionAndDtypeChange() {
    // CLIPTextModelWithProjection (diffusers' SDXL text_encoder_2 layout): a bias-free text_projection Linear.
    TextEncoderConfig config;
    config.width = 16, config.layers = 2, config.heads = 4, config.mlp_width = 24, config.vocab_size = 50;
    config.max_positions = 8, config.projection_dim = 6, config.activation = gesso::TextActivation::Gelu;
    TextEncoder encoder(config, at::TensorOptions().dtype(at::kFloat));
    const auto parameters = encoder->named_parameters();
    QVERIFY(parameters.contains("text_projection.weight"));
    QVERIFY(!parameters.contains("text_projection.bias"));
    QCOMPARE(parameters["text_projection.weight"].sizes(), (at::IntArrayRef{6, 16}));
    gesso::nn::fillRandomWeights(*encoder, 11);
    torch::NoGradGuard no_grad;
    const at::Tensor ids = at::tensor({3, 7, 49, 1, 2, 49}, at::kLong).view({2, 3});
    const TextEncoderOutput out = encoder->forward(ids);
    QCOMPARE(out.pooled.sizes(), (at::IntArrayRef{2, 6}));
    QVERIFY(at::allclose(out.pooled, at::matmul(out.pooler_output, parameters["text_projection.weight"].t())));
    QVERIFY(at::equal(out.pooler_output[1], out.last_hidden_state[1][2]));
    // Module::to keeps the parameters' identity, so the encoder follows a dtype change.
    encoder->to(at::kDouble);
    const TextEncoderOutput twin = encoder->forward(ids);
    QCOMPARE(twin.last_hidden_state.scalar_type(), at::kDouble);
    GESSO_COMPARE_TENSORS("float64 twin", twin.last_hidden_state, out.last_hidden_state, 1e-5, 1e-5);
  }

  void parsesConfigs() {
    const auto hf = gesso::models::textConfigFromHfJson(
        R"({"hidden_size": 1280, "num_hidden_layers": 32, "intermediate_size": 5120, "hidden_act": "gelu",
            "projection_dim": 1280, "architectures": ["CLIPTextModelWithProjection"]})");
    QCOMPARE(hf.heads, 20);
    QCOMPARE(hf.projection_dim, 1280);
    QCOMPARE(hf.activation, gesso::TextActivation::Gelu);
    QCOMPARE(hf.max_positions, 77);
    QCOMPARE(hf.pad_token, int64_t(49407));
    const auto plain = gesso::models::textConfigFromHfJson(
        R"({"hidden_size": 768, "num_hidden_layers": 12, "intermediate_size": 3072, "num_attention_heads": 12,
            "projection_dim": 768, "architectures": ["CLIPTextModel"]})");
    QCOMPARE(plain.projection_dim, 0);
    QCOMPARE(plain.activation, gesso::TextActivation::QuickGelu);

    const auto open = gesso::models::textConfigFromOpenClipJson(
        R"({"embed_dim": 1024, "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 1024, "heads": 16, "layers": 24}})");
    QCOMPARE(open.layout, gesso::TextEncoderLayout::OpenClip);
    QCOMPARE(open.mlp_width, 4096);
    QCOMPARE(open.projection_dim, 1024);
    QCOMPARE(open.activation, gesso::TextActivation::Gelu);
    QCOMPARE(open.pad_token, int64_t(0));

    const auto expectError = [](auto parse, const std::string& text, const std::string& field) {
      try {
        parse(text);
        QFAIL(qPrintable(QString::fromStdString("expected an error about " + field)));
      } catch (const GessoError& error) {
        QCOMPARE(error.error().code, ErrorCode::ConfigError);
        QVERIFY2(error.error().detail.find(field) != std::string::npos, error.what());
      }
    };
    const auto fromHf = [](const std::string& t) { return gesso::models::textConfigFromHfJson(t); };
    const auto fromOpen = [](const std::string& t) { return gesso::models::textConfigFromOpenClipJson(t); };
    expectError(fromHf, R"({"num_hidden_layers": 2, "intermediate_size": 8})", "hidden_size");
    expectError(fromHf, R"({"hidden_size": "64", "num_hidden_layers": 2, "intermediate_size": 8})", "hidden_size");
    expectError(fromHf, R"({"hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 8, "hidden_act": "relu"})", "hidden_act");
    expectError(fromHf, "not json", "JSON");
    expectError(fromOpen, R"({"text_cfg": {"width": 64, "layers": 2}})", "embed_dim");
    expectError(fromOpen, R"({"embed_dim": 8})", "text_cfg");
    expectError(fromOpen, R"({"embed_dim": 8, "text_cfg": {"width": 64}})", "layers");
    expectError(fromOpen, R"({"embed_dim": 8, "text_cfg": {"width": 64, "layers": 2, "hf_model_name": "x"}})", "hf_model_name");
  }
};

QTEST_GUILESS_MAIN(TextEncodersTest)
#include "test_text_encoders.moc"
