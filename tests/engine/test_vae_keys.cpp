// The full-size SD 1.5 / 2.1 / XL autoencoders built on the meta device have exactly the checkpoint's VAE tensor
// names and shapes (sections.vae of the golden key manifests), without allocating any weight.
#include "gesso/models/autoencoder_kl.h"

#include "golden.h"
#include "manifest.h"
#include "vae_config_json.h"

#include <ATen/ATen.h>
#include <QtTest>

using gesso::models::AutoencoderKL;

class VaeKeysTest : public QObject {
  Q_OBJECT

 private slots:
  void matchesCheckpointKeys_data() { gesso::test::addManifestRows(); }
  void matchesCheckpointKeys() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, manifest);
    const auto json = gesso::test::readManifest(manifest.toStdString());
    const auto expected = gesso::test::componentShapes(json, "vae");
    QVERIFY2(expected.outside.isEmpty(), qPrintable("outside the prefix: " + expected.outside.join(", ")));

    AutoencoderKL vae(gesso::test::vaeConfigFromJson(json.at("first_stage_config")),
                      torch::TensorOptions().device(torch::kMeta).dtype(torch::kFloat));
    const auto actual = gesso::test::parameterShapes(*vae);
    QVERIFY(actual.all_meta);
    QVERIFY(vae->named_buffers().is_empty());

    const QStringList differences = gesso::test::shapeDifferences(actual.shapes, expected.shapes);
    QVERIFY2(differences.isEmpty(), qPrintable(differences.join("\n")));
    QCOMPARE(actual.shapes.size(), size_t(248));
    QCOMPARE(actual.elements, int64_t(83653863));  // the published SD VAE size
  }
};

QTEST_GUILESS_MAIN(VaeKeysTest)
#include "test_vae_keys.moc"
