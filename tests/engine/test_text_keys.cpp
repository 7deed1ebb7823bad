// Full-size text encoders built on the meta device have exactly the parameter names and shapes of real
// checkpoints (golden/sd15_keys.json, sd21_keys.json, sdxl_keys.json): CLIP-L, OpenCLIP ViT-H and ViT-bigG.
#include "gesso/models/clip_text.h"
#include "gesso/models/text_config.h"

#include "golden.h"
#include "manifest.h"

#include <ATen/ATen.h>
#include <QtTest>

using gesso::TextActivation;
using gesso::TextEncoderConfig;
using gesso::TextEncoderLayout;
using gesso::models::TextEncoder;

namespace {

TextEncoderConfig clipL() {
  TextEncoderConfig config;  // openai/clip-vit-large-patch14 text model
  config.layout = TextEncoderLayout::HuggingFaceClip;
  config.width = 768, config.layers = 12, config.heads = 12, config.mlp_width = 3072;
  config.activation = TextActivation::QuickGelu;
  return config;
}

TextEncoderConfig openClip(int width, int layers, int heads, int projection) {
  TextEncoderConfig config;
  config.layout = TextEncoderLayout::OpenClip;
  config.width = width, config.layers = layers, config.heads = heads, config.mlp_width = 4 * width;
  config.projection_dim = projection;
  config.activation = TextActivation::Gelu;
  config.pad_token = 0;
  return config;
}

// The manifest section's tensors minus its prefix; optional ones (HF's position_ids buffer) go to `optional`.
gesso::test::SectionShapes manifestShapes(const std::string& file, const std::string& section) {
  const auto manifest = gesso::test::readManifest(file).at("sections").at(section);
  // Names are relative to the component (…transformer. for HF, whose manifests' prefix goes on to text_model.).
  std::string prefix = manifest.at("prefix").get<std::string>();
  const std::string hf_root = "text_model.";
  if (prefix.size() > hf_root.size() && prefix.compare(prefix.size() - hf_root.size(), hf_root.size(), hf_root) == 0) {
    prefix.resize(prefix.size() - hf_root.size());
  }
  return gesso::test::sectionShapes(manifest, prefix, [](const std::string& name, const nlohmann::json& entry) {
    return entry.value("kind", "") == "buffer" && gesso::models::isOptionalTextEncoderKey(name);
  });
}

}  // namespace

class TextKeysTest : public QObject {
  Q_OBJECT

 private slots:
  void matchesCheckpointManifest_data() {
    QTest::addColumn<QString>("manifest");
    QTest::addColumn<QString>("section");
    QTest::addColumn<int>("model");  // 0: CLIP-L, 1: OpenCLIP ViT-H, 2: OpenCLIP ViT-bigG
    QTest::addColumn<qint64>("elements");
    QTest::newRow("sd15 CLIP-L") << "sd15_keys.json" << "text_encoder" << 0 << qint64(123060480);
    QTest::newRow("sd21 OpenCLIP ViT-H") << "sd21_keys.json" << "text_encoder" << 1 << qint64(354032641);
    QTest::newRow("sdxl CLIP-L") << "sdxl_keys.json" << "text_encoder_0" << 0 << qint64(123060480);
    QTest::newRow("sdxl OpenCLIP ViT-bigG") << "sdxl_keys.json" << "text_encoder_1" << 2 << qint64(694659841);
  }

  void matchesCheckpointManifest() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, manifest);
    QFETCH(QString, section);
    QFETCH(int, model);
    QFETCH(qint64, elements);
    const TextEncoderConfig config = model == 0   ? clipL()
                                     : model == 1 ? openClip(1024, 24, 16, 1024)
                                                  : openClip(1280, 32, 20, 1280);
    TextEncoder encoder(config, at::TensorOptions().dtype(at::kFloat).device(at::kMeta));

    const auto expected = manifestShapes(manifest.toStdString(), section.toStdString());
    QVERIFY2(expected.outside.isEmpty(), qPrintable("outside the prefix: " + expected.outside.join(", ")));
    const auto actual = gesso::test::parameterShapes(*encoder);
    QVERIFY(actual.all_meta);
    QVERIFY(encoder->named_buffers().is_empty());

    const QStringList differences = gesso::test::shapeDifferences(actual.shapes, expected.shapes);
    QVERIFY2(differences.isEmpty(), qPrintable(differences.join("\n")));
    QCOMPARE(actual.shapes.size(), expected.shapes.size());
    QCOMPARE(actual.elements, int64_t(elements));  // the published parameter counts
    qInfo().noquote() << section << ":" << actual.shapes.size() << "parameters," << actual.elements
                      << "elements; optional:" << expected.optional.size();
  }
};

QTEST_GUILESS_MAIN(TextKeysTest)
#include "test_text_keys.moc"
