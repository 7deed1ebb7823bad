// AutoencoderKL against the sgm reference goldens (vae_tiny*): moments, the Gaussian, a sample with stored noise,
// decoding, per-block intermediates and the float64 twins; plus chunked attention, odd sizes and input errors.
#include "gesso/models/autoencoder_kl.h"
#include "gesso/nn/attention.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "golden.h"
#include "vae_config_json.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <set>

using gesso::ErrorCode;
using gesso::GessoError;
using gesso::VaeConfig;
using gesso::models::AutoencoderKL;
using gesso::test::vaeConfigFromJson;

namespace {

const std::string kPrefix = "first_stage_model.";

// Copies `prefix + name` into every parameter; returns every problem found (empty when every parameter was filled
// with the right shape and every tensor under `prefix` was used).
std::string loadWeights(torch::nn::Module& module, const gesso::io::SafetensorsFile& file, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  std::string problems;
  std::set<std::string> used;
  for (auto& item : module.named_parameters()) {
    const std::string key = prefix + item.key();
    if (!file.contains(key)) {
      problems += "missing " + key + "\n";
      continue;
    }
    const at::Tensor stored = file.tensor(key);
    if (stored.sizes() != item.value().sizes()) {
      problems += "shape of " + key + "\n";
      continue;
    }
    item.value().copy_(stored);
    used.insert(key);
  }
  for (const auto& info : file.tensors()) {
    if (info.name.rfind(prefix, 0) == 0 && !used.count(info.name)) problems += "unused " + info.name + "\n";
  }
  return problems;
}

}  // namespace

class VaeTest : public QObject {
  Q_OBJECT

  VaeConfig config_;
  std::shared_ptr<gesso::io::SafetensorsFile> weights_;
  std::shared_ptr<gesso::io::SafetensorsFile> io_;

  // The tiny reference VAE with its weights, in `dtype`.
  AutoencoderKL loadedVae(at::ScalarType dtype) {
    AutoencoderKL vae(config_, torch::TensorOptions().dtype(dtype));
    const std::string problems = loadWeights(*vae, *weights_, kPrefix);
    if (!problems.empty()) QTest::qFail(problems.c_str(), __FILE__, __LINE__);
    return vae;
  }

  at::Tensor golden(const std::string& name) { return gesso::test::goldenTensor(*io_, name); }

 private slots:
  void initTestCase() {
    if (!gesso::test::goldenAvailable()) return;
    std::ifstream in(gesso::test::goldenPath("vae_tiny.json"));
    config_ = vaeConfigFromJson(nlohmann::json::parse(in).at("config"));
    weights_ = gesso::test::openGolden("vae_tiny.safetensors");
    io_ = gesso::test::openGolden("vae_tiny_io.safetensors");
  }

  void loadsEveryWeight() {
    GESSO_REQUIRE_SHARED();
    AutoencoderKL vae(config_, torch::TensorOptions().dtype(at::kFloat));
    const std::string problems = loadWeights(*vae, *weights_, kPrefix);
    QVERIFY2(problems.empty(), problems.c_str());
    QCOMPARE(vae->named_parameters().size(), size_t(124));
    int64_t count = 0;
    for (const auto& parameter : vae->parameters()) count += parameter.numel();
    QCOMPARE(count, int64_t(658375));
  }

  void encodeMatchesReference_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("case0") << "case0";
    QTest::newRow("case1") << "case1";
  }
  void encodeMatchesReference() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, name);
    const std::string c = name.toStdString() + "/";
    torch::NoGradGuard no_grad;
    auto vae = loadedVae(at::kFloat);
    const at::Tensor x = golden(c + "x");
    GESSO_COMPARE_TENSORS(name + " moments", vae->encodeMoments(x), golden(c + "moments"), 1e-4, 1e-4);
    const auto gaussian = vae->encode(x);
    GESSO_COMPARE_TENSORS(name + " mean", gaussian.mean, golden(c + "mean"), 1e-4, 1e-4);
    GESSO_COMPARE_TENSORS(name + " logvar", gaussian.logvar, golden(c + "logvar"), 1e-4, 1e-4);
    GESSO_COMPARE_TENSORS(name + " std", gaussian.std, golden(c + "std"), 1e-4, 1e-4);
    GESSO_COMPARE_TENSORS(name + " sample", gaussian.sample(golden(c + "eps")), golden(c + "sample"), 1e-4, 1e-4);
  }

  void decodeMatchesReference_data() { encodeMatchesReference_data(); }
  void decodeMatchesReference() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, name);
    const std::string c = name.toStdString() + "/";
    torch::NoGradGuard no_grad;
    auto vae = loadedVae(at::kFloat);
    GESSO_COMPARE_TENSORS(name + " decoded", vae->decode(golden(c + "z")), golden(c + "decoded"), 1e-4, 1e-4);
  }

  // Every stored case0 encoder/decoder intermediate (batch element 0) against what the hook reports.
  void intermediatesMatchReference() {
    GESSO_REQUIRE_SHARED();
    torch::NoGradGuard no_grad;
    auto vae = loadedVae(at::kFloat);
    std::map<std::string, at::Tensor> seen;
    const auto hook = [&](const std::string& module, const torch::Tensor& output) {
      seen[module] = output.narrow(0, 0, 1).clone();
    };
    vae->encodeMoments(golden("case0/x"), hook);
    vae->decode(golden("case0/z"), hook);
    int compared = 0;
    for (const auto& info : io_->tensors()) {
      for (const std::string part : {"encoder", "decoder"}) {
        const std::string stem = "case0/" + part + "/";
        if (info.name.rfind(stem, 0) != 0) continue;
        const std::string module = part + "." + info.name.substr(stem.size());
        QVERIFY2(seen.count(module), ("not reported by the hook: " + module).c_str());
        GESSO_COMPARE_TENSORS(QString::fromStdString(info.name), seen[module], golden(info.name), 1e-4, 1e-4);
        ++compared;
      }
    }
    QCOMPARE(compared, 14);
  }

  // The same weights in float64 agree with the reference's float64 run to rounding (observed ~1e-14), far tighter
  // than float32 could.
  void float64MatchesReference_data() { encodeMatchesReference_data(); }
  void float64MatchesReference() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, name);
    const std::string c = name.toStdString() + "/";
    torch::NoGradGuard no_grad;
    auto vae = loadedVae(at::kDouble);
    const at::Tensor moments = vae->encodeMoments(golden(c + "x").to(at::kDouble));
    QCOMPARE(moments.scalar_type(), at::kDouble);
    GESSO_COMPARE_TENSORS(name + " moments_f64", moments, golden(c + "moments_f64"), 1e-9, 1e-9);
    const at::Tensor decoded = vae->decode(golden(c + "z").to(at::kDouble));
    GESSO_COMPARE_TENSORS(name + " decoded_f64", decoded, golden(c + "decoded_f64"), 1e-9, 1e-9);
  }

  // The mid-block attention (one head over H·W tokens) through the shared chunked attention, with budgets that
  // force chunks of 5 queries (the last one of 2) and of one query.
  void chunkedAttentionMatchesFull() {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
    const at::Tensor q = at::randn({2, 37, 16}, generator);
    const at::Tensor k = at::randn({2, 37, 16}, generator);
    const at::Tensor v = at::randn({2, 37, 16}, generator);
    const at::Tensor scores = at::bmm(q, k.transpose(1, 2)) / 4.0;  // [2, 37, 37], 1/√16
    const at::Tensor expected = at::bmm(at::softmax(scores, -1), v);
    gesso::nn::AttentionOptions chunked;
    chunked.method = gesso::nn::AttentionMethod::Chunked;
    GESSO_COMPARE_TENSORS("attention one block", gesso::nn::attention(q, k, v, 1, chunked), expected, 1e-5, 1e-5);
    chunked.memory_budget_bytes = 2 * 2 * 37 * 5 * 4;  // scores and softmax of 5 queries
    GESSO_COMPARE_TENSORS("attention chunked", gesso::nn::attention(q, k, v, 1, chunked), expected, 1e-5, 1e-5);
    chunked.memory_budget_bytes = 1;
    GESSO_COMPARE_TENSORS("attention one query at a time", gesso::nn::attention(q, k, v, 1, chunked), expected,
                          1e-5, 1e-5);
  }

  // Odd and non-square sizes: each encoder level floors a side, the decoder doubles it.
  void oddSizesKeepTheReferenceShapes() {
    VaeConfig config;
    config.ch = 32;
    config.ch_mult = {1, 2, 2};
    config.num_res_blocks = 1;
    config.resolution = 32;
    config.attn_resolutions = {16};  // attention inside levels too
    AutoencoderKL vae(config, torch::TensorOptions().dtype(at::kFloat));
    gesso::nn::fillRandomWeights(*vae, 11);
    torch::NoGradGuard no_grad;
    const at::Tensor moments = vae->encodeMoments(at::rand({1, 3, 25, 39}) * 2 - 1);
    QCOMPARE(moments.sizes().vec(), (std::vector<int64_t>{1, 8, 6, 9}));  // 25 -> 12 -> 6, 39 -> 19 -> 9
    QVERIFY(at::isfinite(moments).all().item<bool>());
    const at::Tensor decoded = vae->decode(at::randn({1, 4, 7, 5}));
    QCOMPARE(decoded.sizes().vec(), (std::vector<int64_t>{1, 3, 28, 20}));
    QVERIFY(at::isfinite(decoded).all().item<bool>());
  }

  void rejectsBadInput() {
    VaeConfig config;
    config.ch = 32;
    config.ch_mult = {1, 2};
    config.num_res_blocks = 1;
    AutoencoderKL vae(config, torch::TensorOptions().dtype(at::kFloat));
    const auto codeOf = [](const std::function<void()>& body) {
      try {
        body();
      } catch (const GessoError& error) {
        return error.error().code;
      }
      return ErrorCode::Internal;  // nothing thrown
    };
    QCOMPARE(codeOf([&] { vae->encodeMoments(at::zeros({1, 4, 8, 8})); }), ErrorCode::ShapeMismatch);
    QCOMPARE(codeOf([&] { vae->encodeMoments(at::zeros({3, 8, 8})); }), ErrorCode::ShapeMismatch);
    QCOMPARE(codeOf([&] { vae->encodeMoments(at::zeros({1, 3, 1, 8})); }), ErrorCode::ShapeMismatch);
    QCOMPARE(codeOf([&] { vae->encodeMoments(at::zeros({1, 3, 8, 8}, at::kDouble)); }), ErrorCode::InvalidArgument);
    QCOMPARE(codeOf([&] { vae->decode(at::zeros({1, 3, 8, 8})); }), ErrorCode::ShapeMismatch);
    QCOMPARE(codeOf([&] { vae->decode(torch::Tensor()); }), ErrorCode::InvalidArgument);
    QCOMPARE(codeOf([&] { gesso::models::DiagonalGaussian::fromMoments(at::zeros({1, 3, 2, 2})); }),
             ErrorCode::ShapeMismatch);
    VaeConfig narrow = config;
    narrow.ch = 48;  // 48 channels cannot form 32 groups
    QCOMPARE(codeOf([&] { AutoencoderKL built(narrow, torch::TensorOptions()); }), ErrorCode::ConfigError);
    VaeConfig flat = config;
    flat.ch_mult = {};
    QCOMPARE(codeOf([&] { AutoencoderKL built(flat, torch::TensorOptions()); }), ErrorCode::ConfigError);
  }

  // Information only: one decode of the tiny VAE from a 64x64 latent.
  void timesTinyDecode() {
    GESSO_REQUIRE_SHARED();
    torch::NoGradGuard no_grad;
    auto vae = loadedVae(at::kFloat);
    const at::Tensor z = at::randn({1, 4, 64, 64});
    vae->decode(z);  // warm-up
    const int runs = 3;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < runs; ++i) vae->decode(z);
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / runs;
    qInfo("tiny VAE decode, latent 64x64 -> 128x128, %d threads: %.1f ms", at::get_num_threads(), elapsed_ms);
  }
};

QTEST_GUILESS_MAIN(VaeTest)
#include "test_vae.moc"
