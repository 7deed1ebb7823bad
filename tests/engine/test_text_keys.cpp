// Full-size text encoders built on the meta device have exactly the parameter names and shapes of real
// checkpoints (golden/sd15_keys.json, sd21_keys.json, sdxl_keys.json): CLIP-L, OpenCLIP ViT-H and ViT-bigG.
#include "gesso/models/clip_text.h"
#include "gesso/models/text_config.h"

#include "golden.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

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

using Shapes = std::map<std::string, std::vector<int64_t>>;

// The manifest section's tensors minus its prefix; optional ones (HF's position_ids buffer) go to `optional`.
Shapes manifestShapes(const std::string& file, const std::string& section, Shapes& optional) {
  std::ifstream in(gesso::test::goldenPath(file));
  const auto manifest = nlohmann::json::parse(in).at("sections").at(section);
  // Names are relative to the component (…transformer. for HF, whose manifests' prefix goes on to text_model.).
  std::string prefix = manifest.at("prefix").get<std::string>();
  const std::string hf_root = "text_model.";
  if (prefix.size() > hf_root.size() && prefix.compare(prefix.size() - hf_root.size(), hf_root.size(), hf_root) == 0) {
    prefix.resize(prefix.size() - hf_root.size());
  }
  Shapes shapes;
  for (const auto& [key, entry] : manifest.at("tensors").items()) {
    const std::string name = key.substr(prefix.size());
    const bool is_optional = entry.value("kind", "") == "buffer" && gesso::models::isOptionalTextEncoderKey(name);
    (is_optional ? optional : shapes)[name] = entry.at("shape").get<std::vector<int64_t>>();
  }
  return shapes;
}

QString shapeText(const std::vector<int64_t>& shape) {
  QStringList parts;
  for (int64_t size : shape) parts << QString::number(size);
  return "[" + parts.join(", ") + "]";
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

    Shapes optional;
    const Shapes expected = manifestShapes(manifest.toStdString(), section.toStdString(), optional);
    Shapes actual;
    int64_t count = 0;
    for (const auto& item : encoder->named_parameters()) {
      actual[item.key()] = item.value().sizes().vec();
      count += item.value().numel();
      QVERIFY(item.value().is_meta());
    }
    QVERIFY(encoder->named_buffers().is_empty());

    QStringList differences;
    for (const auto& [name, shape] : expected) {
      const auto found = actual.find(name);
      if (found == actual.end()) {
        differences << "missing " + QString::fromStdString(name) + " " + shapeText(shape);
      } else if (found->second != shape) {
        differences << "shape of " + QString::fromStdString(name) + ": " + shapeText(found->second) + ", expected " +
                           shapeText(shape);
      }
    }
    for (const auto& [name, shape] : actual) {
      if (!expected.count(name)) differences << "unexpected " + QString::fromStdString(name) + " " + shapeText(shape);
    }
    QVERIFY2(differences.isEmpty(), qPrintable(differences.join("\n")));
    QCOMPARE(actual.size(), expected.size());
    QCOMPARE(count, int64_t(elements));  // the published parameter counts
    qInfo().noquote() << section << ":" << actual.size() << "parameters," << count << "elements; optional:" << optional.size();
  }
};

QTEST_GUILESS_MAIN(TextKeysTest)
#include "test_text_keys.moc"
