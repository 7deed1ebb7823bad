// The coloured-shapes dataset (determinism, captions that match the pixels, held-out scenes never written) and the
// BPE vocabulary learner (CLIP's file format, read back by ClipTokenizer; every caption round-trips).
#include "gesso/datasets/shapes.h"
#include "gesso/error.h"
#include "gesso/models/bpe_trainer.h"
#include "gesso/models/tokenizer.h"
#include "gesso/training/vae_trainer.h"
#include "expect_error.h"

#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace gesso;
using namespace gesso::datasets;

namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::map<std::string, std::string> folderBytes(const std::string& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(folder)) files[entry.path().filename().string()] = readFile(entry.path());
  return files;
}

int colourDistance(const uint8_t* pixel, const std::array<uint8_t, 3>& rgb) {
  int distance = 0;
  for (int c = 0; c < 3; ++c) distance = std::max(distance, std::abs(int(pixel[c]) - int(rgb[c])));
  return distance;
}

// What CLIP's decoding gives back: every token ends a word, so punctuation comes back as its own word ("left ,").
std::string clipSpaced(std::string text) {
  for (size_t at = text.find(','); at != std::string::npos; at = text.find(',', at + 2)) text.insert(at, " ");
  return text;
}

std::vector<std::string> sampleCaptions(int count, uint64_t seed) {
  ShapesOptions options;
  options.seed = seed;
  std::vector<std::string> captions;
  for (int i = 0; i < count; ++i) captions.push_back(captionOf(drawScene(options, i)));
  return captions;
}

}  // namespace

class ShapesTest : public QObject {
  Q_OBJECT

 private slots:
  void sameSeedSameBytes() {
    QTemporaryDir first, second, third;
    ShapesOptions options;
    options.count = 12;
    options.size = 32;
    options.seed = 7;
    writeShapesDataset(options, first.path().toStdString());
    writeShapesDataset(options, second.path().toStdString());
    options.seed = 8;
    writeShapesDataset(options, third.path().toStdString());
    const auto a = folderBytes(first.path().toStdString());
    const auto b = folderBytes(second.path().toStdString());
    const auto c = folderBytes(third.path().toStdString());
    QCOMPARE(a.size(), size_t{24});  // 12 PNGs + 12 captions
    QVERIFY(a == b);
    int differing = 0;
    for (const auto& [name, bytes] : a) differing += c.count(name) && c.at(name) != bytes;
    qInfo("seed 8 differs from seed 7 in %d of %zu files", differing, a.size());
    QVERIFY(differing > 12);
    QVERIFY(a.count("00000.png") && a.count("00000.txt"));
    const std::string caption = a.at("00000.txt");
    QVERIFY2(caption.rfind("a ", 0) == 0 && caption.find("background\n") != std::string::npos, caption.c_str());
  }

  // Independent check of the renderer: the pixel at a filled shape's centre has the captioned shape colour and the
  // corner has the background colour; antialiasing gives in-between values only on edges.
  void captionMatchesPixels() {
    ShapesOptions options;
    options.two_shape_fraction = 0;
    options.gradient_fraction = 0;
    int checked = 0;
    for (int index = 0; index < 200 && checked < 40; ++index) {
      const ShapeScene scene = drawScene(options, index);
      const ShapeItem& item = scene.items.front();
      if (item.shape == Shape::Ring) continue;  // hollow centre
      const image::Image image = renderScene(scene, 64);
      const auto centre = positionCentre(item.position);
      const double x = (centre[0] + scene.jitter[0][0]) * 64, y = (centre[1] + scene.jitter[0][1]) * 64;
      const auto& shape_rgb = shapeColours()[item.colour].rgb;
      const auto& background_rgb = shapeColours()[scene.background_colour].rgb;
      const std::string caption = captionOf(scene);
      QVERIFY2(caption.find(std::string(shapeColours()[item.colour].name) + " " + shapeNames()[int(item.shape)]) != std::string::npos, caption.c_str());
      QVERIFY2(colourDistance(image.pixel(int64_t(x), int64_t(y)), shape_rgb) == 0, caption.c_str());
      QVERIFY2(colourDistance(image.pixel(0, 0), background_rgb) == 0, caption.c_str());
      QVERIFY2(colourDistance(image.pixel(63, 63), background_rgb) == 0, caption.c_str());
      ++checked;
    }
    QCOMPARE(checked, 40);
    // Antialiasing: a large circle's edge has pixels between the two colours.
    ShapeScene scene;
    scene.items = {ShapeItem{Shape::Circle, 0, ShapeSize::Large, Position::Centre}};
    scene.background_colour = 6;  // white
    scene.jitter = {{0, 0, 1}};
    const image::Image image = renderScene(scene, 64);
    int mixed = 0;
    for (int64_t y = 0; y < 64; ++y) {
      for (int64_t x = 0; x < 64; ++x) {
        const uint8_t* p = image.pixel(x, y);
        mixed += colourDistance(p, shapeColours()[0].rgb) > 10 && colourDistance(p, shapeColours()[6].rgb) > 10;
      }
    }
    qInfo("antialiased edge pixels of a large circle: %d", mixed);
    QVERIFY(mixed > 40);
  }

  void heldOutScenesAreNeverDrawn() {
    const std::vector<ShapeScene> held_out = heldOutScenes();
    std::set<std::string> held_out_captions;
    for (const auto& scene : held_out) held_out_captions.insert(captionOf(scene));
    qInfo("held-out single-shape captions: %zu", held_out_captions.size());
    QVERIFY(held_out_captions.size() >= 100);
    ShapesOptions options;
    options.seed = 3;
    int single = 0;
    for (int index = 0; index < 5000; ++index) {
      const ShapeScene scene = drawScene(options, index);
      QVERIFY2(!held_out_captions.count(captionOf(scene)), captionOf(scene).c_str());
      single += scene.items.size() == 1;
    }
    qInfo("single-shape scenes: %d of 5000", single);
    QVERIFY(single > 3000 && single < 4000);  // two_shape_fraction 0.3
  }

  // The in-memory dataset (train-vae --shapes-count) is the written one: PNG is lossless 8-bit, so
  // the decoded files must equal the rendered tensor exactly, and the captions the .txt files.
  void inMemoryDatasetEqualsWrittenFiles() {
    ShapesOptions options;
    options.count = 9;
    options.seed = 5;  // size 64, default fractions: what --shapes-count uses
    const ShapesTensors single = renderShapesDataset(options, 1);
    const ShapesTensors threaded = renderShapesDataset(options, 4);
    QCOMPARE(single.images.sizes().vec(), (std::vector<int64_t>{9, 3, 64, 64}));
    QVERIFY(at::equal(single.images, threaded.images));  // independent of the thread count
    QVERIFY(single.captions == threaded.captions);
    GESSO_EXPECT_ERROR(renderShapesDataset(ShapesOptions{0}), ErrorCode::InvalidArgument, "--shapes-count");
#ifndef GESSO_WITH_IMAGE_IO
    QSKIP("built without image IO: cannot compare with decoded PNGs");
#else
    QTemporaryDir dir;
    writeShapesDataset(options, dir.path().toStdString());
    const training::ImageFolder folder = training::loadImageFolder(dir.path().toStdString());
    QCOMPARE(folder.images.sizes(), single.images.sizes());
    const int64_t max_diff = (folder.images.to(at::kInt) - single.images.to(at::kInt)).abs().max().item<int64_t>();
    qInfo("in-memory vs decoded PNG: max difference %lld over %lld bytes", static_cast<long long>(max_diff),
          static_cast<long long>(single.images.numel()));
    QCOMPARE(max_diff, int64_t{0});
    for (size_t i = 0; i < folder.paths.size(); ++i) {
      std::ifstream in(std::filesystem::path(folder.paths[i]).replace_extension(".txt"));
      std::string caption;
      std::getline(in, caption);
      QCOMPARE(QString::fromStdString(single.captions[i]), QString::fromStdString(caption));
    }
#endif
  }

  void badOptionsAreErrors() {
    QTemporaryDir dir;
    ShapesOptions options;
    options.count = 0;
    GESSO_EXPECT_ERROR(writeShapesDataset(options, dir.path().toStdString()), ErrorCode::InvalidArgument, "--count");
    options.count = 1;
    options.size = 4;
    GESSO_EXPECT_ERROR(writeShapesDataset(options, dir.path().toStdString()), ErrorCode::InvalidArgument, "--size");
  }

  void tokenizerRoundTripsEveryCaption() {
    const std::vector<std::string> captions = sampleCaptions(3000, 11);
    const models::BpeVocabulary bpe = models::learnBpe(captions, 4000);
    QVERIFY(bpe.merges.size() < 4000 - 514);  // stopped when every word was one token
    QTemporaryDir dir;
    models::writeBpeVocabulary(bpe, dir.path().toStdString());
    const models::ClipTokenizer tokenizer = models::ClipTokenizer::load(dir.path().toStdString());
    QCOMPARE(tokenizer.vocabulary().size(), bpe.vocabulary.size());
    QCOMPARE(tokenizer.merges().size(), bpe.merges.size());
    QCOMPARE(tokenizer.endOfText(), int64_t(bpe.vocabulary.size()) - 1);  // HF CLIP's padding id is the last
    QCOMPARE(tokenizer.startOfText(), int64_t(bpe.vocabulary.size()) - 2);
    std::vector<std::string> all = captions;
    for (const auto& scene : heldOutScenes()) all.push_back(captionOf(scene));
    size_t longest = 0;
    int mismatches = 0;
    for (const auto& caption : all) {
      const std::vector<int64_t> ids = tokenizer.encode(caption);
      longest = std::max(longest, ids.size());
      const std::string decoded = models::decodeTokens(tokenizer, ids);
      // Exact ids again from the decoded text, and the text itself up to CLIP's spacing of punctuation.
      QVERIFY(tokenizer.encode(decoded) == ids);
      if (decoded != clipSpaced(caption)) {
        ++mismatches;
        qWarning("'%s' came back as '%s'", caption.c_str(), decoded.c_str());
      }
      // Each word (and the comma) is one token: ids count == pieces count.
      int pieces = 1;
      for (char c : caption) pieces += c == ' ';
      pieces += 1;  // the comma is its own piece
      QCOMPARE(int(ids.size()), pieces);
    }
    qInfo("%zu captions, %zu merges, %zu tokens, longest caption %zu tokens, %d mismatches", all.size(),
          bpe.merges.size(), bpe.vocabulary.size(), longest, mismatches);
    QCOMPARE(mismatches, 0);
    QVERIFY(longest + 2 <= 77);
    // Deterministic, and a text outside the training words still round-trips (byte fallback).
    QVERIFY(models::learnBpe(captions, 4000).merges == bpe.merges);
    const std::string unseen = "a tiny magenta hexagon, ünïcode";
    QCOMPARE(models::decodeTokens(tokenizer, tokenizer.encode(unseen)), clipSpaced(unseen));
  }

  void smallVocabularyStopsEarlyAndStillRoundTrips() {
    const std::vector<std::string> captions = sampleCaptions(200, 1);
    const models::BpeVocabulary bpe = models::learnBpe(captions, 530);
    QCOMPARE(bpe.vocabulary.size(), size_t{530});
    QTemporaryDir dir;
    models::writeBpeVocabulary(bpe, dir.path().toStdString());
    const auto tokenizer = models::ClipTokenizer::load(dir.path().toStdString());
    for (const auto& caption : captions) QCOMPARE(models::decodeTokens(tokenizer, tokenizer.encode(caption)), clipSpaced(caption));
    GESSO_EXPECT_ERROR(models::learnBpe(captions, 100), ErrorCode::InvalidArgument, "at least 514");
    GESSO_EXPECT_ERROR(models::learnBpe({}, 1000), ErrorCode::InvalidArgument, "no words");
  }
};

QTEST_GUILESS_MAIN(ShapesTest)
#include "test_shapes.moc"
