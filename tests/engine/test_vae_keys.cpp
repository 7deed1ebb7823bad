// The full-size SD 1.5 / 2.1 / XL autoencoders built on the meta device have exactly the checkpoint's VAE tensor
// names and shapes (sections.vae of the golden key manifests), without allocating any weight.
#include "gesso/models/autoencoder_kl.h"

#include "golden.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

using gesso::VaeConfig;
using gesso::models::AutoencoderKL;

namespace {

// An sgm first_stage_config ({embed_dim, ddconfig}) as a VaeConfig.
VaeConfig vaeConfigFromJson(const nlohmann::json& first_stage) {
  const auto& dd = first_stage.at("ddconfig");
  VaeConfig config;
  config.embed_dim = first_stage.at("embed_dim").get<int>();
  config.z_channels = dd.at("z_channels").get<int>();
  config.resolution = dd.at("resolution").get<int>();
  config.in_channels = dd.at("in_channels").get<int>();
  config.out_ch = dd.at("out_ch").get<int>();
  config.ch = dd.at("ch").get<int>();
  config.ch_mult = dd.at("ch_mult").get<std::vector<int>>();
  config.num_res_blocks = dd.at("num_res_blocks").get<int>();
  config.attn_resolutions = dd.at("attn_resolutions").get<std::vector<int>>();
  config.double_z = dd.at("double_z").get<bool>();
  return config;
}

std::string shapeText(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << c10::IntArrayRef(shape);
  return out.str();
}

}  // namespace

class VaeKeysTest : public QObject {
  Q_OBJECT

 private slots:
  void matchesCheckpointKeys_data() {
    QTest::addColumn<QString>("manifest");
    QTest::newRow("sd15") << "sd15_keys.json";
    QTest::newRow("sd21") << "sd21_keys.json";
    QTest::newRow("sdxl") << "sdxl_keys.json";
  }
  void matchesCheckpointKeys() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, manifest);
    std::ifstream in(gesso::test::goldenPath(manifest.toStdString()));
    const auto json = nlohmann::json::parse(in);
    const auto& section = json.at("sections").at("vae");
    const std::string prefix = section.at("prefix").get<std::string>();

    std::map<std::string, std::vector<int64_t>> expected;
    for (const auto& [key, entry] : section.at("tensors").items()) {
      QVERIFY2(key.rfind(prefix, 0) == 0, key.c_str());
      expected[key.substr(prefix.size())] = entry.at("shape").get<std::vector<int64_t>>();
    }

    AutoencoderKL vae(vaeConfigFromJson(json.at("first_stage_config")),
                      torch::TensorOptions().device(torch::kMeta).dtype(torch::kFloat));
    std::map<std::string, std::vector<int64_t>> actual;
    int64_t elements = 0;
    for (const auto& item : vae->named_parameters()) {
      QVERIFY(item.value().is_meta());
      actual[item.key()] = item.value().sizes().vec();
      elements += item.value().numel();
    }
    QVERIFY(vae->named_buffers().is_empty());

    std::string differences;
    for (const auto& [name, shape] : expected) {
      const auto found = actual.find(name);
      if (found == actual.end()) {
        differences += "missing " + name + " " + shapeText(shape) + "\n";
      } else if (found->second != shape) {
        differences += "shape of " + name + ": " + shapeText(found->second) + ", expected " + shapeText(shape) + "\n";
      }
    }
    for (const auto& [name, shape] : actual) {
      if (!expected.count(name)) differences += "unexpected " + name + " " + shapeText(shape) + "\n";
    }
    QVERIFY2(differences.empty(), differences.c_str());
    QCOMPARE(actual.size(), size_t(248));
    QCOMPARE(elements, int64_t(83653863));  // the published SD VAE size
  }
};

QTEST_GUILESS_MAIN(VaeKeysTest)
#include "test_vae_keys.moc"
