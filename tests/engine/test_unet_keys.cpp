// The full-size SD 1.5, SD 2.1 and SDXL UNets, built on the meta device (no memory), have exactly the parameter
// names and shapes of the reference checkpoints (../shared/golden/*_keys.json, section `unet`).
#include "gesso/models/unet.h"

#include "gesso/error.h"
#include "golden.h"
#include "unet_config_json.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

using gesso::models::UNet;

class UNetKeysTest : public QObject {
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
    const nlohmann::json json = nlohmann::json::parse(in);
    const auto config = gesso::test::unetConfigFromKwargs(json.at("unet_config"));
    const auto& section = json.at("sections").at("unet");
    const std::string prefix = section.at("prefix").get<std::string>();

    std::map<std::string, std::vector<int64_t>> expected;
    for (const auto& [key, info] : section.at("tensors").items()) {
      QVERIFY2(key.rfind(prefix, 0) == 0, key.c_str());
      expected[key.substr(prefix.size())] = info.at("shape").get<std::vector<int64_t>>();
    }

    UNet unet(config, at::TensorOptions().dtype(at::kFloat).device(at::kMeta));
    QString problems;
    int64_t parameter_count = 0;
    for (const auto& item : unet->named_parameters()) {
      QVERIFY(item.value().device().is_meta());
      parameter_count += item.value().numel();
      const auto found = expected.find(item.key());
      if (found == expected.end()) {
        problems += "\n  unexpected: " + QString::fromStdString(item.key());
        continue;
      }
      if (item.value().sizes().vec() != found->second) {
        problems += "\n  shape differs: " + QString::fromStdString(item.key());
      }
      expected.erase(found);
    }
    for (const auto& [name, shape] : expected) problems += "\n  missing: " + QString::fromStdString(name);
    QVERIFY2(unet->buffers().empty(), "the UNet should hold no buffers");
    qInfo().noquote() << manifest << ":" << unet->named_parameters().size() << "tensors," << parameter_count
                      << "parameters";
    QVERIFY2(problems.isEmpty(), qPrintable(manifest + ":" + problems));
  }

  // A ridiculous config fails with a named field rather than a crash.
  void rejectsInconsistentConfig() {
    gesso::UNetConfig config;
    config.num_res_blocks = {2, 2};  // four levels
    QVERIFY_EXCEPTION_THROWN(UNet(config, at::TensorOptions().device(at::kMeta)), gesso::GessoError);
    config = gesso::UNetConfig{};
    config.num_head_channels = 48;  // does not divide 320
    QVERIFY_EXCEPTION_THROWN(UNet(config, at::TensorOptions().device(at::kMeta)), gesso::GessoError);
    config = gesso::UNetConfig{};
    config.in_channels = 9;  // inpainting
    UNet inpaint(config, at::TensorOptions().device(at::kMeta));
    QCOMPARE(inpaint->named_parameters()["input_blocks.0.0.weight"].sizes().vec(), (std::vector<int64_t>{320, 9, 3, 3}));
  }
};

QTEST_GUILESS_MAIN(UNetKeysTest)
#include "test_unet_keys.moc"
