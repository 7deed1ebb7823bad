// The bundled model (resources/models/gesso-shapes): found without configuration, loads through the normal
// checkpoint path, and draws what held-out prompts ask for: 50 prompts never in its training captions, at fixed
// seeds, judged by a colour analysis of the pixels (shape colour and background colour right in >= 80%).
#include "gesso/datasets/shapes.h"
#include "gesso/pipeline/bundled_model.h"
#include "gesso/pipeline/pipeline.h"
#include "golden.h"

#include <QProcess>
#include <QtTest>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <filesystem>

using namespace gesso;

namespace {

// The named colour nearest to an RGB value (Euclidean distance).
int nearestColour(const std::array<double, 3>& rgb) {
  int best = 0;
  double best_distance = 1e18;
  const auto& colours = datasets::shapeColours();
  for (size_t i = 0; i < colours.size(); ++i) {
    double distance = 0;
    for (int c = 0; c < 3; ++c) distance += (rgb[c] - colours[i].rgb[c]) * (rgb[c] - colours[i].rgb[c]);
    if (distance < best_distance) best_distance = distance, best = static_cast<int>(i);
  }
  return best;
}

std::array<double, 3> medianColour(std::vector<std::array<uint8_t, 3>> pixels) {
  std::array<double, 3> median{};
  for (int c = 0; c < 3; ++c) {
    std::nth_element(pixels.begin(), pixels.begin() + pixels.size() / 2, pixels.end(),
                     [c](const auto& a, const auto& b) { return a[c] < b[c]; });
    median[c] = pixels[pixels.size() / 2][c];
  }
  return median;
}

struct Analysis {
  int background = -1;
  int shape = -1;        // -1: no pixel differs from the background
  int position = -1;     // nearest position centre to the shape pixels' centroid
};

// Background: the median of the outermost 2-pixel frame. Shape: the pixels far from that colour (max channel
// difference > 80), their median colour and centroid.
Analysis analyse(const image::Image& image) {
  Analysis result;
  std::vector<std::array<uint8_t, 3>> frame, shape;
  const int64_t size = image.width;
  for (int64_t y = 0; y < size; ++y) {
    for (int64_t x = 0; x < size; ++x) {
      if (x < 2 || y < 2 || x >= size - 2 || y >= size - 2) {
        const uint8_t* p = image.pixel(x, y);
        frame.push_back({p[0], p[1], p[2]});
      }
    }
  }
  const std::array<double, 3> background = medianColour(frame);
  result.background = nearestColour(background);
  double sx = 0, sy = 0;
  for (int64_t y = 0; y < size; ++y) {
    for (int64_t x = 0; x < size; ++x) {
      const uint8_t* p = image.pixel(x, y);
      double difference = 0;
      for (int c = 0; c < 3; ++c) difference = std::max(difference, std::abs(p[c] - background[c]));
      if (difference > 80) shape.push_back({p[0], p[1], p[2]}), sx += x + 0.5, sy += y + 0.5;
    }
  }
  if (shape.size() < 4) return result;
  result.shape = nearestColour(medianColour(shape));
  const double cx = sx / shape.size() / size, cy = sy / shape.size() / size;
  double best = 1e9;
  for (int position = 0; position < 5; ++position) {
    const auto centre = datasets::positionCentre(static_cast<datasets::Position>(position));
    const double distance = std::hypot(cx - centre[0], cy - centre[1]);
    if (distance < best) best = distance, result.position = position;
  }
  return result;
}

}  // namespace

class BundledModelTest : public QObject {
  Q_OBJECT

 private slots:
  void isFoundWithoutConfiguration() {
    const std::string path = pipeline::bundledModelPath();
    QVERIFY2(!path.empty(), "resources/models/gesso-shapes/gesso-shapes.safetensors not found");
    qInfo("bundled model: %s (%.1f MB)", path.c_str(), std::filesystem::file_size(path) / 1e6);
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
      total += entry.file_size();
    }
    qInfo("model folder: %.1f MB", total / 1e6);
    QVERIFY(total <= 30'000'000);
    // The tokenizer beside the single file is the one found.
    QCOMPARE(pipeline::findTokenizer({}, path), std::filesystem::path(path).parent_path().string());
  }

  // `gesso-cli info` reads it through the normal checkpoint path: family and every component present.
  void cliInfoShowsFamilyAndComponents() {
    const std::string path = pipeline::bundledModelPath();
    if (path.empty()) QSKIP("no bundled model");
    QProcess process;
    process.start(test::cliPath(), {"info", QString::fromStdString(path)});
    QVERIFY(process.waitForFinished(120000));
    const QString out = QString::fromUtf8(process.readAllStandardOutput());
    qInfo("%s", qPrintable(out));
    QCOMPARE(process.exitCode(), 0);
    QVERIFY(out.contains("family:"));
    for (const char* component : {"unet", "vae", "text_encoder"}) QVERIFY2(out.contains(component), component);
  }

  // The analysis itself, on the dataset's own pictures of the same 50 held-out scenes: what a perfect model scores.
  void analysisReadsTheDatasetsOwnPictures() {
    const std::vector<datasets::ShapeScene> scenes = datasets::heldOutScenes();
    const size_t count = 50;
    int both_right = 0, position_right = 0;
    for (size_t i = 0; i < count; ++i) {
      const datasets::ShapeScene& scene = scenes[i * scenes.size() / count];
      const Analysis analysis = analyse(datasets::renderScene(scene, 64));
      const auto& item = scene.items.front();
      const bool right = analysis.shape == item.colour && analysis.background == scene.background_colour;
      both_right += right;
      position_right += analysis.position == static_cast<int>(item.position);
      if (!right) qInfo("dataset miss: '%s' -> shape %s", datasets::captionOf(scene).c_str(),
                        analysis.shape >= 0 ? datasets::shapeColours()[analysis.shape].name : "none");
    }
    qInfo("the dataset's own pictures: both colours right %d of %zu, position right %d", both_right, count, position_right);
    QVERIFY2(both_right >= 48, "the colour analysis misreads the dataset's own pictures");
  }

  void heldOutPromptsGetTheirColours() {
    const std::string path = pipeline::bundledModelPath();
    if (path.empty()) QSKIP("no bundled model");
    pipeline::ModelLoadOptions load;
    load.model = path;
    auto model = pipeline::LoadedModel::load(load);
    qInfo("family %s, config: %s", familyName(model->config().family), model->configSource().c_str());

    const std::vector<datasets::ShapeScene> scenes = datasets::heldOutScenes();
    QVERIFY(scenes.size() >= 50);
    int shape_right = 0, background_right = 0, both_right = 0, position_right = 0;
    double seconds = 0;
    const size_t count = 50;
    // GESSO_BUNDLED_FIRST_SEED moves the seeds, to see how a retrained model does beyond the suite's 1000-1049.
    const char* seed_text = std::getenv("GESSO_BUNDLED_FIRST_SEED");
    const int64_t first_seed = seed_text && *seed_text ? std::atoll(seed_text) : 1000;
    for (size_t i = 0; i < count; ++i) {
      // Spread over the held-out list, which is ordered by shape.
      const datasets::ShapeScene& scene = scenes[i * scenes.size() / count];
      pipeline::GenerateRequest request;
      request.model = path;
      request.prompt = datasets::captionOf(scene);
      request.width = request.height = 64;
      request.steps = 20;
      request.cfg_scale = 5.0;
      request.seed = first_seed + static_cast<int64_t>(i);
      const auto start = std::chrono::steady_clock::now();
      const pipeline::GenerateResult result = pipeline::generate(*model, request);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const Analysis analysis = analyse(result.images.front().image);
      const auto& item = scene.items.front();
      const bool shape_ok = analysis.shape == item.colour;
      const bool background_ok = analysis.background == scene.background_colour;
      shape_right += shape_ok;
      background_right += background_ok;
      both_right += shape_ok && background_ok;
      position_right += analysis.position == static_cast<int>(item.position);
      if (!(shape_ok && background_ok)) {
        qInfo("miss: '%s' -> shape %s, background %s", request.prompt.c_str(),
              analysis.shape >= 0 ? datasets::shapeColours()[analysis.shape].name : "none",
              datasets::shapeColours()[analysis.background].name);
      }
    }
    const double score = double(both_right) / count;
    qInfo("held-out prompts: %zu; shape colour right %d, background right %d, both right %d (score %.2f); "
          "position right %d; %.3f s per 64x64 image (20 steps, CFG)",
          count, shape_right, background_right, both_right, score, position_right, seconds / count);
    QVERIFY2(score >= 0.8, qPrintable(QString("colour score %1 < 0.80").arg(score)));
  }
};

QTEST_GUILESS_MAIN(BundledModelTest)
#include "test_bundled_model.moc"
