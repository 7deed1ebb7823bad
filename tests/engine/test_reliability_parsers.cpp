// The fuzz corpora of the config, request and infotext parsers replayed in the normal build (seeds and every finding
// saved there): each input is read or refused with a GessoError, and the findings keep their specific outcome.
#include "gesso/error.h"
#include "gesso/image/generation_parameters.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/text_config.h"
#include "gesso/pipeline/generate_request.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtTest>

#include <functional>

using namespace gesso;

namespace {

QString corpusDir(const QString& target) {
  return QStringLiteral(GESSO_FUZZ_CORPUS_DIR "/") + target;
}

std::string readAll(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  const QByteArray bytes = file.readAll();
  return std::string(bytes.constData(), static_cast<size_t>(bytes.size()));
}

// Runs `parse` on every file of the target's corpus; returns {read, refused}. Anything but a GessoError escapes
// and fails the test.
std::pair<int, int> replay(const QString& target, const std::function<void(const std::string&)>& parse) {
  int read = 0;
  int refused = 0;
  for (const QFileInfo& entry : QDir(corpusDir(target)).entryInfoList(QDir::Files)) {
    try {
      parse(readAll(entry.filePath()));
      ++read;
    } catch (const GessoError&) {
      ++refused;
    }
  }
  qInfo("%s: %d corpus inputs read, %d refused with a GessoError", qPrintable(target), read, refused);
  return {read, refused};
}

QString errorOf(const std::function<void()>& body) {
  try {
    body();
  } catch (const GessoError& error) {
    return QString::fromStdString(error.what());
  }
  return {};
}

}  // namespace

class ReliabilityParsersTest : public QObject {
  Q_OBJECT

 private slots:
  void yamlCorpus() {
    if (!yamlSupported()) QSKIP("built without YAML support (GESSO_WITH_YAML=OFF)");
    const auto [read, refused] = replay("config_yaml", [](const std::string& text) { parseYamlConfig(text, "corpus.yaml"); });
    QVERIFY(read >= 5);
    QVERIFY(refused >= 1);
  }

  // Finding (fuzz_config_yaml): a section without `params` was an invalid yaml-cpp node whose IsMap() threw
  // YAML::InvalidNode past every handler (std::terminate).
  void yamlSectionWithoutParams() {
    if (!yamlSupported()) QSKIP("built without YAML support (GESSO_WITH_YAML=OFF)");
    const QString vae = errorOf([] {
      parseYamlConfig("model:\n  params:\n    first_stage_config:\n      target: ldm.models.autoencoder.AutoencoderKL\n",
                      "v1.yaml");
    });
    QVERIFY2(vae.contains("v1.yaml") && vae.contains("model.params.first_stage_config.params") &&
                 vae.contains("expected a map of autoencoder parameters"),
             qPrintable(vae));
    const QString unet = errorOf([] { parseYamlConfig("model:\n  params:\n    unet_config:\n      target: x\n", "v2.yaml"); });
    QVERIFY2(unet.contains("v2.yaml") && unet.contains("model.params.unet_config.params") &&
                 unet.contains("expected a map of UNet parameters"),
             qPrintable(unet));
    const QString sgm = errorOf([] { parseYamlConfig("model:\n  params:\n    network_config: 3\n", "xl.yaml"); });
    // A scalar where a map belongs: yaml-cpp's own exception, turned into a ConfigError naming the file.
    QVERIFY2(sgm.contains("xl.yaml") && sgm.contains("cannot read the YAML config"), qPrintable(sgm));
  }

  void jsonCorpus() {
    auto one = [](const std::function<void(const std::string&)>& parse) {
      return [parse](const std::string& text) { parse(text); };
    };
    const auto unet = replay("config_json", one([](const std::string& t) { parseDiffusersUNetConfig(t, "unet.json"); }));
    const auto vae = replay("config_json", one([](const std::string& t) { parseDiffusersVaeConfig(t, "vae.json"); }));
    const auto hf = replay("config_json", one([](const std::string& t) { models::textConfigFromHfJson(t); }));
    const auto oc = replay("config_json", one([](const std::string& t) { models::textConfigFromOpenClipJson(t); }));
    QVERIFY(unet.first >= 1 && vae.first >= 1 && hf.first >= 1 && oc.first >= 1);
  }

  void requestCorpus() {
    const auto [read, refused] = replay("request_json", [](const std::string& text) {
      const pipeline::GenerateRequest request = pipeline::requestFromJson(text);
      QVERIFY(pipeline::requestFromJson(pipeline::requestToJson(request)) == request);
    });
    QVERIFY(read >= 2);
    QVERIFY(refused >= 1);
  }

  // Found while writing the request seeds: an unsigned integer past int64 wrapped (seed 2^64 - 1 read as -1, which
  // means "pick a random seed") instead of being refused.
  void requestIntegerOverflow() {
    const QString seed = errorOf([] { pipeline::requestFromJson(R"({"seed": 18446744073709551615})"); });
    QVERIFY2(seed.contains("'seed' is out of range: 18446744073709551615"), qPrintable(seed));
    const QString steps = errorOf([] { pipeline::requestFromJson(R"({"steps": 9223372036854775808})"); });
    QVERIFY2(steps.contains("'steps' is out of range"), qPrintable(steps));
    QCOMPARE(pipeline::requestFromJson(R"({"seed": 9223372036854775807})").seed, int64_t{9223372036854775807});
    QCOMPARE(pipeline::requestFromJson(R"({"seed": 4294967295})").seed, int64_t{4294967295});
  }

  void infotextCorpus() {
    const auto [read, refused] = replay("infotext", [](const std::string& text) { image::parseA1111Parameters(text); });
    QCOMPARE(refused, 0);  // the infotext parser never throws
    QVERIFY(read >= 4);
  }
};

QTEST_GUILESS_MAIN(ReliabilityParsersTest)
#include "test_reliability_parsers.moc"
