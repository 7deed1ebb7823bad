// The safetensors reader against the golden files, round trips through the writer, and one malformed file per rule.
#include "gesso/io/safetensors.h"

#include "gesso/error.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using gesso::ErrorCode;
using gesso::GessoError;
using gesso::io::SafetensorsFile;

namespace {

// Writes an 8-byte length, `header` and `data` (the raw material of a malformed file).
std::string writeRaw(const QTemporaryDir& dir, const std::string& name, const std::string& header, const std::string& data,
                     int64_t claimed_length = -1) {
  const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
  std::ofstream out(path, std::ios::binary);
  const uint64_t length = claimed_length >= 0 ? static_cast<uint64_t>(claimed_length) : header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xff));
  out << header << data;
  return path;
}

}  // namespace

class SafetensorsTest : public QObject {
  Q_OBJECT

 private slots:
  void readsGoldenFile() {
    GESSO_REQUIRE_SHARED();
    auto file = gesso::test::openGolden("unet_tiny.safetensors");
    QCOMPARE(file->tensors().size(), size_t(208));
    QVERIFY(file->metadata().count("config"));
    const auto* info = file->find("model.diffusion_model.input_blocks.0.0.weight");
    QVERIFY(info);
    QCOMPARE(info->shape, (std::vector<int64_t>{32, 4, 3, 3}));
    const at::Tensor weight = file->tensor("model.diffusion_model.input_blocks.0.0.weight");
    QCOMPARE(weight.scalar_type(), at::kFloat);
    QVERIFY(at::isfinite(weight).all().item<bool>());
    auto text = gesso::test::openGolden("text_clip_tiny.safetensors");
    QCOMPARE(text->tensor("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight").scalar_type(), at::kHalf);
  }

  void roundTripsEveryDtype() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("round.safetensors").toStdString();
    std::vector<std::pair<std::string, at::Tensor>> tensors{
        {"f32", at::randn({3, 5})},
        {"f16", at::randn({7}).to(at::kHalf)},
        {"bf16", at::randn({2, 2}).to(at::kBFloat16)},
        {"f64", at::randn({1, 3}, at::kDouble)},
        {"i64", at::arange(5, at::kLong)},
        {"u8", at::arange(3, at::kByte)},
        {"bool", at::ones({2}, at::kBool)},
        {"scalar", at::tensor(2.5f).reshape({})},
        {"empty", at::empty({0, 4})},
        {"strided", at::randn({4, 6}).t()},
    };
    gesso::io::writeSafetensors(path, tensors, {{"format", "pt"}});
    auto file = SafetensorsFile::open(path);
    QCOMPARE(file->metadata().at("format"), std::string("pt"));
    for (const auto& [name, tensor] : tensors) {
      const at::Tensor read = file->tensor(name);
      QCOMPARE(read.scalar_type(), tensor.scalar_type());
      QVERIFY2(read.sizes() == tensor.sizes(), name.c_str());
      QVERIFY2(at::equal(read, tensor.contiguous()), name.c_str());
    }
    // The data section starts 8-byte aligned, as the reference writer's files do.
    QCOMPARE(file->headerSize() % 8, uint64_t(0));
  }

  void viewsAreCopyOnWrite() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("cow.safetensors").toStdString();
    gesso::io::writeSafetensors(path, {{"x", at::zeros({4})}});
    {
      auto file = SafetensorsFile::open(path);
      at::Tensor view = file->tensor("x");
      view.add_(1);  // must not reach the file
    }
    QVERIFY(at::equal(SafetensorsFile::open(path)->tensor("x"), at::zeros({4})));
  }

  void unalignedDataIsCopied() {
    QTemporaryDir dir;
    // A 1-byte tensor first puts the F32 tensor at an odd offset.
    const std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
    std::string data(1, '\x07');
    const float values[2] = {1.5f, -2.0f};
    data.append(reinterpret_cast<const char*>(values), sizeof(values));
    const std::string path = writeRaw(dir, "unaligned.safetensors", header, data);
    auto file = SafetensorsFile::open(path);
    const at::Tensor b = file->tensor("b");
    QCOMPARE(b[0].item<float>(), 1.5f);
    QCOMPARE(b[1].item<float>(), -2.0f);
  }

  void rejectsMalformed_data() {
    QTest::addColumn<QString>("header");
    QTest::addColumn<int>("data_bytes");
    QTest::addColumn<qint64>("claimed_length");  // -1: the header's real length
    QTest::addColumn<QString>("expected");       // a phrase the error must contain

    const QString f32 = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    QTest::newRow("header length past end") << f32 << 8 << qint64(1000) << "runs past the end";
    QTest::newRow("header length over cap") << f32 << 8 << qint64(200ll * 1024 * 1024) << "exceeds the limit";
    QTest::newRow("not json") << "{not json" << 0 << qint64(-1) << "not valid UTF-8 JSON";
    QTest::newRow("not an object") << "[1,2]" << 0 << qint64(-1) << "not a JSON object";
    QTest::newRow("invalid utf-8") << QString::fromLatin1("{\"\xff\":1}") << 0 << qint64(-1) << "UTF-8";
    QTest::newRow("unknown dtype") << R"({"t":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}})" << 8 << qint64(-1) << "unknown dtype 'F17'";
    QTest::newRow("size mismatch") << R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})" << 8 << qint64(-1) << "need 12";
    QTest::newRow("negative dim") << R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})" << 8 << qint64(-1) << "non-negative";
    QTest::newRow("end before begin") << R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})" << 8 << qint64(-1) << "end before begin";
    QTest::newRow("missing offsets") << R"({"t":{"dtype":"F32","shape":[2]}})" << 8 << qint64(-1) << "data_offsets";
    QTest::newRow("gap") << R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})" << 12 << qint64(-1) << "(gap)";
    QTest::newRow("overlap") << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})" << 12 << qint64(-1) << "overlaps";
    QTest::newRow("truncated") << f32 << 4 << qint64(-1) << "truncated";
    QTest::newRow("trailing bytes") << f32 << 12 << qint64(-1) << "trailing bytes";
    QTest::newRow("duplicate name") << R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})" << 8 << qint64(-1) << "appears twice";
    QTest::newRow("metadata not strings") << R"({"__metadata__":{"a":1}})" << 0 << qint64(-1) << "not a string";
    QTest::newRow("metadata not object") << R"({"__metadata__":[]})" << 0 << qint64(-1) << "__metadata__ must be";
  }

  void rejectsMalformed() {
    QFETCH(QString, header);
    QFETCH(int, data_bytes);
    QFETCH(qint64, claimed_length);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const std::string path = writeRaw(dir, "bad.safetensors", header.toLatin1().toStdString(),
                                      std::string(static_cast<size_t>(data_bytes), '\0'), claimed_length);
    try {
      SafetensorsFile::open(path);
      QFAIL("a malformed file was accepted");
    } catch (const GessoError& error) {
      const QString message = QString::fromStdString(error.error().detail);
      qInfo().noquote() << "error:" << message;
      QCOMPARE(error.error().code, ErrorCode::InvalidFormat);
      QVERIFY2(message.contains(expected), qPrintable(message));
      QVERIFY2(message.contains(QString::fromStdString(path)), "the error names the file");
    }
  }

  void rejectsTinyAndMissingFiles() {
    QTemporaryDir dir;
    const std::string tiny = dir.filePath("tiny").toStdString();
    std::ofstream(tiny) << "abc";
    QVERIFY_THROWS_EXCEPTION(GessoError, SafetensorsFile::open(tiny));
    try {
      SafetensorsFile::open(dir.filePath("absent").toStdString());
      QFAIL("opened a missing file");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::FileNotFound);
    }
  }

  void writerReplacesAtomically() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("atomic.safetensors").toStdString();
    gesso::io::writeSafetensors(path, {{"x", at::ones({2})}});
    // A failing write (a duplicate name) leaves the previous file whole and no temporary behind.
    QVERIFY_THROWS_EXCEPTION(GessoError, gesso::io::writeSafetensors(path, {{"x", at::ones({2})}, {"x", at::ones({2})}}));
    QVERIFY(at::equal(SafetensorsFile::open(path)->tensor("x"), at::ones({2})));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 1);
  }
};

QTEST_GUILESS_MAIN(SafetensorsTest)
#include "test_safetensors.moc"
