// The strict .ckpt reader over the fixtures of tests/fixtures/ckpt (made by make_fixtures.py without torch): benign
// checkpoints equal their safetensors twins; every malicious one is refused with an error naming the forbidden thing,
// and its payload (which would touch $GESSO_PWNED_MARKER) never runs.
#include "gesso/error.h"
#include "gesso/io/checkpoint.h"
#include "gesso/io/ckpt_reader.h"
#include "gesso/io/pickle.h"
#include "gesso/io/safetensors.h"
#include "gesso/io/zip_reader.h"

#include <ATen/ATen.h>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

namespace {

QString fixturesDir() { return QStringLiteral(GESSO_TEST_FIXTURES_DIR "/ckpt"); }
std::string fixture(const QString& name) { return (fixturesDir() + "/" + name).toStdString(); }

QJsonObject manifest() {
  QFile file(fixturesDir() + "/manifest.json");
  if (!file.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(file.readAll()).object();
}

// Names, dtypes, shapes and values must all match exactly; the largest difference is printed.
void compareWithTwin(const gesso::io::NamedTensors& tensors, const std::string& twin_path) {
  auto twin = gesso::io::SafetensorsFile::open(twin_path);
  QCOMPARE(tensors.size(), twin->tensors().size());
  double max_diff = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, tensor] = tensors[i];
    QCOMPARE(QString::fromStdString(name), QString::fromStdString(twin->tensors()[i].name));
    const at::Tensor expected = twin->tensor(name);
    QVERIFY2(tensor.scalar_type() == expected.scalar_type(), qPrintable(QString::fromStdString(name) + ": dtype differs"));
    QVERIFY2(tensor.sizes() == expected.sizes(), qPrintable(QString::fromStdString(name) + ": shape differs"));
    if (tensor.numel() > 0 && at::isFloatingType(tensor.scalar_type())) {
      max_diff = std::max(max_diff, (tensor.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>());
    }
    QVERIFY2(at::equal(tensor, expected), qPrintable(QString::fromStdString(name) + ": values differ"));
  }
  qInfo("%zu tensors, maxdiff=%g", tensors.size(), max_diff);
}

}  // namespace

class CkptReaderTest : public QObject {
  Q_OBJECT

  QTemporaryDir temp_;
  QString marker_;

 private slots:
  void initTestCase() {
    QVERIFY2(!manifest().isEmpty(), qPrintable("no manifest.json in " + fixturesDir()));
    QVERIFY(temp_.isValid());
    marker_ = temp_.filePath("pwned");
    qputenv("GESSO_PWNED_MARKER", marker_.toUtf8());
  }

  void readsBenignCheckpoints_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("twin");
    for (const auto& entry : manifest()["benign"].toArray()) {
      const QJsonObject row = entry.toObject();
      QTest::newRow(qPrintable(row["file"].toString())) << row["file"].toString() << row["twin"].toString();
    }
  }
  void readsBenignCheckpoints() {
    QFETCH(QString, file);
    QFETCH(QString, twin);
    const auto tensors = gesso::captureErrors([&] { return gesso::io::readTorchCheckpoint(fixture(file)); });
    QVERIFY2(tensors.ok(), qPrintable(QString::fromStdString(tensors.ok() ? "" : tensors.error().message())));
    compareWithTwin(*tensors, fixture(twin));
  }

  void refusesMaliciousCheckpoints_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("error");
    for (const auto& entry : manifest()["malicious"].toArray()) {
      const QJsonObject row = entry.toObject();
      QTest::newRow(qPrintable(row["file"].toString())) << row["file"].toString() << row["error"].toString();
    }
  }
  void refusesMaliciousCheckpoints() {
    QFETCH(QString, file);
    QFETCH(QString, error);
    const auto tensors = gesso::captureErrors([&] { return gesso::io::readTorchCheckpoint(fixture(file)); });
    QVERIFY2(!tensors.ok(), qPrintable(file + " was accepted"));
    const QString message = QString::fromStdString(tensors.error().message());
    qInfo("%s", qPrintable(message));
    QCOMPARE(tensors.error().code, gesso::ErrorCode::InvalidFormat);
    QVERIFY2(message.contains(error), qPrintable(message + "\n  does not name: " + error));
    QVERIFY2(message.contains(file), qPrintable(message + "\n  does not name the file"));
    QVERIFY2(!QFileInfo::exists(marker_), "a payload ran");
  }

  void checkpointOpenPointsToConvert() {
    const auto opened = gesso::captureErrors([] { return gesso::io::Checkpoint::open(fixture("benign.ckpt")); });
    QVERIFY(!opened.ok());
    QVERIFY2(QString::fromStdString(opened.error().detail).contains("gesso-cli convert"), qPrintable(QString::fromStdString(opened.error().detail)));
  }

  void allowListIsExact() {
    using gesso::io::isAllowedPickleGlobal;
    QVERIFY(isAllowedPickleGlobal("collections.OrderedDict"));
    QVERIFY(isAllowedPickleGlobal("torch._utils._rebuild_tensor_v2"));
    QVERIFY(isAllowedPickleGlobal("torch.HalfStorage"));
    QVERIFY(!isAllowedPickleGlobal("torch._utils._rebuild_tensor_v2.__globals__"));
    QVERIFY(!isAllowedPickleGlobal("collections.OrderedDict "));
    QVERIFY(!isAllowedPickleGlobal("torch.load"));
    QVERIFY(!isAllowedPickleGlobal("builtins.getattr"));
  }

  void pickleLimitsHold() {
    gesso::io::PickleLimits limits;
    limits.max_stack = 8;
    const std::string many_nones = "\x80\x02" + std::string(9, 'N') + ".";
    const auto parsed = gesso::captureErrors([&] { return gesso::io::parseTorchPickle(many_nones.data(), many_nones.size(), "nones", limits); });
    QVERIFY(!parsed.ok());
    QVERIFY2(QString::fromStdString(parsed.error().detail).contains("stack deeper than 8"), qPrintable(QString::fromStdString(parsed.error().detail)));
    // Trailing bytes after STOP are refused; a clean stream is read.
    const std::string trailing = std::string("\x80\x02}.", 4) + "x";
    QVERIFY(!gesso::captureErrors([&] { return gesso::io::parseTorchPickle(trailing.data(), trailing.size(), "t"); }).ok());
    const std::string clean = std::string("\x80\x02}.", 4);
    QVERIFY(gesso::captureErrors([&] { return gesso::io::parseTorchPickle(clean.data(), clean.size(), "c"); }).ok());
  }

  // The quick version of fuzz/: seeded random damage to the benign archive and to its pickle. Each input is read
  // or refused with a GessoError; a crash, hang or other exception fails the test (ASan builds catch more).
  void survivesDamagedInputs() {
    QFile file(fixturesDir() + "/benign.ckpt");
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray archive_bytes = file.readAll();
    const std::string original(archive_bytes.constData(), static_cast<size_t>(archive_bytes.size()));
    const auto archive = gesso::io::ZipReader::fromMemory(original, "benign.ckpt");
    const std::string pickle = archive->readString(*archive->find("archive/data.pkl"));

    std::mt19937 random(20261128);
    auto damage = [&random](std::string bytes) {
      const int edits = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < edits && !bytes.empty(); ++i) {
        const size_t at = random() % bytes.size();
        switch (random() % 4) {
          case 0: bytes[at] = static_cast<char>(random()); break;                 // overwrite
          case 1: bytes[at] = static_cast<char>(bytes[at] ^ (1 << (random() % 8))); break;  // flip a bit
          case 2: bytes.erase(at, 1 + random() % 16); break;                       // delete
          default: bytes.resize(at); break;                                        // truncate
        }
      }
      return bytes;
    };
    int read = 0, refused = 0;
    for (int round = 0; round < 3000; ++round) {
      const std::string damaged = damage(original);
      try {
        gesso::io::readTorchCheckpoint(*gesso::io::ZipReader::fromMemory(damaged, "damaged.ckpt"));
        ++read;
      } catch (const gesso::GessoError&) {
        ++refused;
      }
    }
    for (int round = 0; round < 20000; ++round) {
      const std::string damaged = damage(pickle);
      try {
        gesso::io::parseTorchPickle(damaged.data(), damaged.size(), "damaged.pkl");
        ++read;
      } catch (const gesso::GessoError&) {
        ++refused;
      }
    }
    qInfo("23000 damaged inputs: %d read, %d refused, no crash", read, refused);
    QVERIFY(refused > 0);
  }

  // Every seed of the fuzz corpus (and any finding saved there) is read or refused cleanly.
  void replaysFuzzCorpus() {
    const QString corpus = QStringLiteral(GESSO_FUZZ_CORPUS_DIR);
    int inputs = 0;
    for (const QString& target : {QString("pickle"), QString("ckpt")}) {
      QDir folder(corpus + "/" + target);
      for (const QString& name : folder.entryList(QDir::Files)) {
        QFile input(folder.filePath(name));
        QVERIFY(input.open(QIODevice::ReadOnly));
        const QByteArray data = input.readAll();
        const std::string bytes(data.constData(), static_cast<size_t>(data.size()));
        const auto result = gesso::captureErrors([&] {
          if (target == "pickle") {
            gesso::io::parseTorchPickle(bytes.data(), bytes.size(), name.toStdString());
          } else {
            gesso::io::readTorchCheckpoint(*gesso::io::ZipReader::fromMemory(bytes, name.toStdString()));
          }
        });
        if (!result.ok()) QCOMPARE(result.error().code, gesso::ErrorCode::InvalidFormat);
        ++inputs;
      }
    }
    qInfo("%d corpus inputs replayed", inputs);
    QVERIFY(inputs > 0);
  }

  void entryNamesAreValidated_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::newRow("plain") << "archive/data/0" << true;
    QTest::newRow("dotdot") << "archive/../x" << false;
    QTest::newRow("leading dotdot") << "../x" << false;
    QTest::newRow("absolute") << "/etc/passwd" << false;
    QTest::newRow("backslash") << "archive\\..\\x" << false;
    QTest::newRow("drive") << "C:/x" << false;
    QTest::newRow("empty segment") << "archive//x" << false;
    QTest::newRow("dot") << "archive/./x" << false;
  }
  void entryNamesAreValidated() {
    QFETCH(QString, name);
    QFETCH(bool, valid);
    const auto checked = gesso::captureErrors([&] { gesso::io::validateEntryName(name.toStdString(), "test"); });
    QCOMPARE(checked.ok(), valid);
  }
};

QTEST_GUILESS_MAIN(CkptReaderTest)
#include "test_ckpt_reader.moc"
