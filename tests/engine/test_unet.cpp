// The UNet against sgm's UNetModel on the three tiny goldens (SD1-, SD2- and SDXL-style): outputs, timestep
// embeddings and every block's output; and the chunked attention path against the direct one.
#include "gesso/models/unet.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/nn/attention.h"
#include "gesso/nn/timestep_embedding.h"
#include "golden.h"
#include "unet_config_json.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <set>

using gesso::UNetConfig;
using gesso::models::UNet;

namespace {

const std::string kPrefix = "model.diffusion_model.";

UNetConfig goldenConfig(const std::string& variant) {
  std::ifstream in(gesso::test::goldenPath(variant + ".json"));
  return gesso::test::unetConfigFromKwargs(nlohmann::json::parse(in).at("config"));
}

// Copies every `model.diffusion_model.*` tensor into the parameter of the same name; returns a message naming
// any tensor without a parameter, parameter without a tensor, or shape difference (empty when all match).
std::string loadWeights(torch::nn::Module& module, const gesso::io::SafetensorsFile& file) {
  torch::NoGradGuard no_grad;
  auto parameters = module.named_parameters();
  std::set<std::string> unfilled;
  for (const auto& item : parameters) unfilled.insert(item.key());
  std::string problems;
  for (const auto& info : file.tensors()) {
    if (info.name.rfind(kPrefix, 0) != 0) continue;
    const std::string name = info.name.substr(kPrefix.size());
    auto* parameter = parameters.find(name);
    if (!parameter) {
      problems += " unexpected:" + name;
      continue;
    }
    const at::Tensor value = file.tensor(info.name);
    if (value.sizes() != parameter->sizes()) {
      problems += " shape:" + name;
      continue;
    }
    parameter->copy_(value);
    unfilled.erase(name);
  }
  for (const auto& name : unfilled) problems += " missing:" + name;
  return problems;
}

UNet loadGoldenUNet(const std::string& variant) {
  UNet unet(goldenConfig(variant), at::TensorOptions().dtype(at::kFloat));
  auto weights = gesso::test::openGolden(variant + ".safetensors");
  const std::string problems = loadWeights(*unet, *weights);
  if (!problems.empty()) throw std::runtime_error(variant + ": weights do not match the modules:" + problems);
  unet->eval();
  return unet;
}

at::Tensor optionalInput(const gesso::io::SafetensorsFile& io, const std::string& name) {
  return io.contains(name) ? gesso::test::goldenTensor(io, name) : at::Tensor();
}

}  // namespace

class UNetTest : public QObject {
  Q_OBJECT

 private slots:
  void matchesGolden_data() {
    QTest::addColumn<QString>("variant");
    QTest::addColumn<QString>("caseName");
    for (const char* variant : {"unet_tiny", "unet_tiny_linear", "unet_tiny_xl"}) {
      for (const char* name : {"case0", "case1"}) {
        QTest::newRow((std::string(variant) + "/" + name).c_str()) << QString(variant) << QString(name);
      }
    }
  }

  void matchesGolden() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, variant);
    QFETCH(QString, caseName);
    const std::string v = variant.toStdString(), c = caseName.toStdString() + "/";
    UNet unet = loadGoldenUNet(v);
    auto io = gesso::test::openGolden(v + "_io.safetensors");

    std::map<std::string, at::Tensor> seen;
    auto hook = [&](const std::string& name, const at::Tensor& output) { seen[name] = output; };
    torch::NoGradGuard no_grad;
    const at::Tensor out = unet->forward(gesso::test::goldenTensor(*io, c + "x"),
                                         gesso::test::goldenTensor(*io, c + "timesteps"),
                                         gesso::test::goldenTensor(*io, c + "context"), optionalInput(*io, c + "y"), hook);
    const QString label = variant + "/" + caseName;
    GESSO_COMPARE_TENSORS(label + " out", out, gesso::test::goldenTensor(*io, c + "out"), 1e-4, 1e-4);
    GESSO_COMPARE_TENSORS(label + " t_emb", seen["t_emb"], gesso::test::goldenTensor(*io, c + "t_emb"), 1e-4, 1e-4);
    GESSO_COMPARE_TENSORS(label + " emb", seen["emb"], gesso::test::goldenTensor(*io, c + "emb"), 1e-4, 1e-4);

    const std::string blocks = c + "blocks/";
    int compared = 0;
    for (const auto& info : io->tensors()) {
      if (info.name.rfind(blocks, 0) != 0) continue;
      const std::string block = info.name.substr(blocks.size());
      QVERIFY2(seen.count(block), qPrintable(QString::fromStdString("no hook output for " + block)));
      GESSO_COMPARE_TENSORS(label + " " + QString::fromStdString(block), seen[block].narrow(0, 0, 1),
                            gesso::test::goldenTensor(*io, info.name), 1e-4, 1e-4);
      ++compared;
    }
    if (caseName == "case0") QVERIFY(compared > 0);
  }

  // Every block the hook reports exists in the golden, so no block output goes unchecked.
  void hookReportsGoldenBlocks() {
    GESSO_REQUIRE_SHARED();
    UNet unet = loadGoldenUNet("unet_tiny_xl");
    auto io = gesso::test::openGolden("unet_tiny_xl_io.safetensors");
    std::vector<std::string> names;
    torch::NoGradGuard no_grad;
    unet->forward(gesso::test::goldenTensor(*io, "case1/x"), gesso::test::goldenTensor(*io, "case1/timesteps"),
                  gesso::test::goldenTensor(*io, "case1/context"), gesso::test::goldenTensor(*io, "case1/y"),
                  [&](const std::string& name, const at::Tensor&) { names.push_back(name); });
    for (const auto& name : names) {
      if (name == "t_emb" || name == "emb") continue;
      QVERIFY2(io->contains("case0/blocks/" + name), name.c_str());
    }
    QCOMPARE(names.size(), size_t(2 + 4 + 1 + 4));
  }

  void chunkedAttentionEqualsDirect() {
    at::manual_seed(7);
    const at::Tensor q = at::randn({2, 37, 4 * 8}), k = at::randn({2, 11, 4 * 8}), v = at::randn({2, 11, 4 * 8});
    gesso::nn::AttentionOptions whole{gesso::nn::AttentionMethod::Chunked, int64_t(1) << 30};
    // 2 batches · 4 heads · 11 keys · 4 bytes · 2 = 704 bytes a query: 1000 bytes gives one query a chunk.
    gesso::nn::AttentionOptions tiny{gesso::nn::AttentionMethod::Chunked, 1000};
    gesso::nn::AttentionOptions some{gesso::nn::AttentionMethod::Chunked, 704 * 5};
    const at::Tensor expected = gesso::nn::attention(q, k, v, 4, whole);
    // Plain reference: per-head softmax(QKᵀ/√d)V written out directly.
    const at::Tensor qh = q.reshape({2, 37, 4, 8}).permute({0, 2, 1, 3});  // [B, h, N, d]
    const at::Tensor kh = k.reshape({2, 11, 4, 8}).permute({0, 2, 1, 3});  // [B, h, M, d]
    const at::Tensor vh = v.reshape({2, 11, 4, 8}).permute({0, 2, 1, 3});  // [B, h, M, d]
    const at::Tensor reference = at::matmul(at::softmax(at::matmul(qh, kh.transpose(2, 3)) / std::sqrt(8.0), -1), vh)
                                     .permute({0, 2, 1, 3})
                                     .reshape({2, 37, 32});  // [B, N, h·d]
    GESSO_COMPARE_TENSORS("attention whole vs reference", expected, reference, 1e-5, 1e-5);
    GESSO_COMPARE_TENSORS("attention tiny chunks", gesso::nn::attention(q, k, v, 4, tiny), expected, 1e-6, 1e-6);
    GESSO_COMPARE_TENSORS("attention 5-query chunks", gesso::nn::attention(q, k, v, 4, some), expected, 1e-6, 1e-6);
    GESSO_COMPARE_TENSORS("attention auto", gesso::nn::attention(q, k, v, 4), expected, 1e-5, 1e-5);
    QVERIFY_EXCEPTION_THROWN(gesso::nn::attention(q, k, v, 5), gesso::GessoError);
  }

  void chunkedUNetEqualsDefault() {
    GESSO_REQUIRE_SHARED();
    UNet unet = loadGoldenUNet("unet_tiny_xl");
    auto io = gesso::test::openGolden("unet_tiny_xl_io.safetensors");
    torch::NoGradGuard no_grad;
    auto run = [&] {
      return unet->forward(gesso::test::goldenTensor(*io, "case0/x"), gesso::test::goldenTensor(*io, "case0/timesteps"),
                           gesso::test::goldenTensor(*io, "case0/context"), gesso::test::goldenTensor(*io, "case0/y"));
    };
    const at::Tensor by_default = run();
    unet->setAttentionOptions({gesso::nn::AttentionMethod::Chunked, 4096});  // a few queries per chunk
    const at::Tensor chunked = run();
    unet->setAttentionOptions({});
    GESSO_COMPARE_TENSORS("unet_tiny_xl chunked vs default", chunked, by_default, 1e-5, 1e-5);
    GESSO_COMPARE_TENSORS("unet_tiny_xl chunked vs golden", chunked, gesso::test::goldenTensor(*io, "case0/out"), 1e-4,
                          1e-4);
  }

  // Reduced precision runs end to end (dtype casts of the embeddings and context); only a loose check of the values.
  void runsInBFloat16() {
    GESSO_REQUIRE_SHARED();
    UNet unet = loadGoldenUNet("unet_tiny_xl");
    unet->to(at::kBFloat16);
    auto io = gesso::test::openGolden("unet_tiny_xl_io.safetensors");
    torch::NoGradGuard no_grad;
    const at::Tensor out = unet->forward(gesso::test::goldenTensor(*io, "case0/x").to(at::kBFloat16),
                                         gesso::test::goldenTensor(*io, "case0/timesteps"),
                                         gesso::test::goldenTensor(*io, "case0/context"),
                                         gesso::test::goldenTensor(*io, "case0/y"));
    QCOMPARE(out.scalar_type(), at::kBFloat16);
    GESSO_COMPARE_TENSORS("unet_tiny_xl bfloat16", out.to(at::kFloat), gesso::test::goldenTensor(*io, "case0/out"), 0.15,
                          0.05);
  }

  void timestepEmbeddingOddWidth() {
    const at::Tensor t = at::tensor({0.0f, 3.5f, 999.0f});
    const at::Tensor odd = gesso::nn::timestepEmbedding(t, 7);
    QCOMPARE(odd.size(1), int64_t(7));
    QCOMPARE(odd.select(1, 6).abs().max().item<float>(), 0.0f);
    // cos first: at t = 0 the first half is 1 and the second half 0.
    const at::Tensor even = gesso::nn::timestepEmbedding(at::zeros({1}), 8);
    GESSO_COMPARE_TENSORS("t_emb(0)", even, at::cat({at::ones({1, 4}), at::zeros({1, 4})}, 1), 0, 0);
  }

  void rejectsBadInputs() {
    GESSO_REQUIRE_SHARED();
    UNet unet = loadGoldenUNet("unet_tiny_xl");
    torch::NoGradGuard no_grad;
    const at::Tensor x = at::randn({1, 4, 8, 8}), t = at::ones({1}), ctx = at::randn({1, 3, 32}), y = at::randn({1, 24});
    QVERIFY_EXCEPTION_THROWN(unet->forward(x, t, ctx), gesso::GessoError);                      // y missing
    QVERIFY_EXCEPTION_THROWN(unet->forward(at::randn({1, 3, 8, 8}), t, ctx, y), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(unet->forward(at::randn({1, 4, 7, 8}), t, ctx, y), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(unet->forward(x, t, at::randn({1, 3, 16}), y), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(unet->forward(x, at::ones({2}), ctx, y), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(unet->forward(x, t, at::Tensor(), y), gesso::GessoError);
    UNet plain = loadGoldenUNet("unet_tiny");
    QVERIFY_EXCEPTION_THROWN(plain->forward(x, t, ctx, y), gesso::GessoError);  // no vector conditioning
    UNetConfig bad = goldenConfig("unet_tiny");
    bad.num_heads = 3;
    QVERIFY_EXCEPTION_THROWN(UNet(bad, at::TensorOptions().device(at::kMeta)), gesso::GessoError);
  }

  // For information: the time of one unet_tiny forward (case0, batch 2, 16×16) on this machine.
  void reportsSpeed() {
    GESSO_REQUIRE_SHARED();
    UNet unet = loadGoldenUNet("unet_tiny");
    auto io = gesso::test::openGolden("unet_tiny_io.safetensors");
    const at::Tensor x = gesso::test::goldenTensor(*io, "case0/x"), t = gesso::test::goldenTensor(*io, "case0/timesteps"),
                     ctx = gesso::test::goldenTensor(*io, "case0/context");
    torch::NoGradGuard no_grad;
    unet->forward(x, t, ctx);  // warm-up
    const int runs = 5;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < runs; ++i) unet->forward(x, t, ctx);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / runs;
    qInfo().noquote() << QString("unet_tiny forward (batch 2, 16x16): %1 ms").arg(ms, 0, 'f', 2);
  }
};

QTEST_GUILESS_MAIN(UNetTest)
#include "test_unet.moc"
