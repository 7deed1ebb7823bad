// The full-size SD 1.5, SD 2.1 and SDXL UNets, built on the meta device (no memory), have exactly the parameter
// names and shapes of the reference checkpoints (../shared/golden/*_keys.json, section `unet`).
#include "gesso/models/unet.h"

#include "gesso/error.h"
#include "golden.h"
#include "manifest.h"
#include "unet_config_json.h"

#include <ATen/ATen.h>
#include <QtTest>

using gesso::models::UNet;

class UNetKeysTest : public QObject {
  Q_OBJECT

 private slots:
  void matchesCheckpointKeys_data() { gesso::test::addManifestRows(); }

  void matchesCheckpointKeys() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, manifest);
    const nlohmann::json json = gesso::test::readManifest(manifest.toStdString());
    const auto config = gesso::test::unetConfigFromKwargs(json.at("unet_config"));
    const auto expected = gesso::test::componentShapes(json, "unet");
    QVERIFY2(expected.outside.isEmpty(), qPrintable("outside the prefix: " + expected.outside.join(", ")));

    UNet unet(config, at::TensorOptions().dtype(at::kFloat).device(at::kMeta));
    const auto actual = gesso::test::parameterShapes(*unet);
    QVERIFY(actual.all_meta);
    const QStringList problems = gesso::test::shapeDifferences(actual.shapes, expected.shapes);
    QVERIFY2(unet->buffers().empty(), "the UNet should hold no buffers");
    qInfo().noquote() << manifest << ":" << actual.shapes.size() << "tensors," << actual.elements << "parameters";
    QVERIFY2(problems.isEmpty(), qPrintable(manifest + ":\n  " + problems.join("\n  ")));
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
