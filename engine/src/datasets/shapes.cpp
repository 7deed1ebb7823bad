// The coloured-shapes dataset: scene drawing (a counter-based RNG per image), captions, supersampled rendering and
// the writer. See gesso/datasets/shapes.h.
#include "gesso/datasets/shapes.h"

#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "util/atomic_file.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace gesso::datasets {

namespace {

namespace fs = std::filesystem;

// SplitMix64: a small generator whose output depends only on its seed, the same on every platform and library
// (std:: distributions are not specified bit for bit).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double uniform(double low, double high) { return low + (high - low) * uniform(); }

 private:
  uint64_t state_;
};

uint64_t mix(uint64_t value) { return Random(value).next(); }

constexpr double kLargeRadius = 0.19;  // fractions of the side
constexpr double kSmallRadius = 0.11;

// Crossing-number test against a closed polygon.
bool insidePolygon(double x, double y, const std::vector<std::array<double, 2>>& polygon) {
  bool inside = false;
  for (size_t i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
    const auto& a = polygon[i];
    const auto& b = polygon[j];
    if ((a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

const std::vector<std::array<double, 2>>& starPolygon() {
  static const std::vector<std::array<double, 2>> polygon = [] {
    std::vector<std::array<double, 2>> points;
    for (int k = 0; k < 10; ++k) {
      const double angle = (-90.0 + 36.0 * k) * M_PI / 180.0;
      const double radius = k % 2 == 0 ? 1.0 : 0.45;
      points.push_back({radius * std::cos(angle), radius * std::sin(angle)});
    }
    return points;
  }();
  return polygon;
}

const std::vector<std::array<double, 2>>& trianglePolygon() {
  static const std::vector<std::array<double, 2>> polygon{{0.0, -1.0}, {0.866, 0.5}, {-0.866, 0.5}};
  return polygon;
}

// (u, v): the point relative to the shape's centre in units of its radius (v grows downwards).
bool insideShape(Shape shape, double u, double v) {
  const double d2 = u * u + v * v;
  switch (shape) {
    case Shape::Circle: return d2 <= 1.0;
    case Shape::Square: return std::max(std::abs(u), std::abs(v)) <= 0.82;
    case Shape::Triangle: return insidePolygon(u, v, trianglePolygon());
    case Shape::Star: return insidePolygon(u, v, starPolygon());
    case Shape::Ring: return d2 <= 1.0 && d2 >= 0.55 * 0.55;
  }
  return false;
}

// The background's second colour: the named colour moved 45% towards white (dark colours) or black (light ones).
std::array<double, 3> gradientEnd(const std::array<uint8_t, 3>& rgb) {
  const double luminance = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255.0;
  const double target = luminance < 0.35 ? 255.0 : 0.0;
  return {rgb[0] + 0.45 * (target - rgb[0]), rgb[1] + 0.45 * (target - rgb[1]), rgb[2] + 0.45 * (target - rgb[2])};
}

}  // namespace

const std::vector<NamedColour>& shapeColours() {
  static const std::vector<NamedColour> colours{
      {"red", {220, 30, 30}},    {"orange", {250, 140, 0}},  {"yellow", {245, 225, 30}}, {"green", {30, 160, 50}},
      {"blue", {30, 70, 220}},   {"purple", {140, 40, 180}}, {"white", {245, 245, 245}}, {"black", {15, 15, 15}},
  };
  return colours;
}

const std::vector<std::string>& shapeNames() {
  static const std::vector<std::string> names{"circle", "square", "triangle", "star", "ring"};
  return names;
}

const std::vector<std::string>& sizeNames() {
  static const std::vector<std::string> names{"small", "large"};
  return names;
}

const std::vector<std::string>& positionNames() {
  static const std::vector<std::string> names{"left", "right", "top", "bottom", "centre"};
  return names;
}

std::string positionPhrase(Position position) {
  switch (position) {
    case Position::Left: return "on the left";
    case Position::Right: return "on the right";
    case Position::Top: return "at the top";
    case Position::Bottom: return "at the bottom";
    case Position::Centre: return "in the centre";
  }
  return {};
}

std::array<double, 2> positionCentre(Position position) {
  switch (position) {
    case Position::Left: return {0.27, 0.5};
    case Position::Right: return {0.73, 0.5};
    case Position::Top: return {0.5, 0.27};
    case Position::Bottom: return {0.5, 0.73};
    case Position::Centre: return {0.5, 0.5};
  }
  return {0.5, 0.5};
}

std::string captionOf(const ShapeScene& scene) {
  std::string caption;
  for (size_t i = 0; i < scene.items.size(); ++i) {
    const ShapeItem& item = scene.items[i];
    if (i > 0) caption += " and ";
    caption += "a " + sizeNames()[static_cast<size_t>(item.size)] + " " + shapeColours()[item.colour].name + " " +
               shapeNames()[static_cast<size_t>(item.shape)] + " " + positionPhrase(item.position);
  }
  caption += ", ";
  caption += shapeColours()[scene.background_colour].name;
  caption += scene.background == Background::Gradient ? " gradient background" : " background";
  return caption;
}

bool isHeldOut(const ShapeItem& item, int background_colour) {
  const uint64_t key = ((((static_cast<uint64_t>(item.shape) * 8 + static_cast<uint64_t>(item.colour)) * 2 +
                          static_cast<uint64_t>(item.size)) * 5 + static_cast<uint64_t>(item.position)) * 8 +
                        static_cast<uint64_t>(background_colour));
  return mix(key ^ 0x5EEDC0DEull) % 12 == 0;
}

std::vector<ShapeScene> heldOutScenes() {
  std::vector<ShapeScene> scenes;
  const int colours = static_cast<int>(shapeColours().size());
  for (int shape = 0; shape < 5; ++shape) {
    for (int colour = 0; colour < colours; ++colour) {
      for (int size = 0; size < 2; ++size) {
        for (int position = 0; position < 5; ++position) {
          for (int background = 0; background < colours; ++background) {
            if (background == colour) continue;
            const ShapeItem item{static_cast<Shape>(shape), colour, static_cast<ShapeSize>(size), static_cast<Position>(position)};
            if (!isHeldOut(item, background)) continue;
            ShapeScene scene;
            scene.items = {item};
            scene.background_colour = background;
            scene.jitter = {{0.0, 0.0, 1.0}};
            scenes.push_back(scene);
          }
        }
      }
    }
  }
  return scenes;
}

ShapeScene drawScene(const ShapesOptions& options, int index) {
  Random random(mix(options.seed) ^ mix(static_cast<uint64_t>(index) + 0x1234567ull));
  const int colours = static_cast<int>(shapeColours().size());
  for (;;) {
    ShapeScene scene;
    scene.background_colour = random.below(colours);
    scene.background = random.uniform() < options.gradient_fraction ? Background::Gradient : Background::Plain;
    const int count = random.uniform() < options.two_shape_fraction ? 2 : 1;
    for (int i = 0; i < count; ++i) {
      ShapeItem item;
      item.shape = static_cast<Shape>(random.below(5));
      do {
        item.colour = random.below(colours);
      } while (item.colour == scene.background_colour);
      item.size = static_cast<ShapeSize>(random.below(2));
      do {
        item.position = static_cast<Position>(random.below(5));
      } while (i == 1 && item.position == scene.items[0].position);
      scene.items.push_back(item);
      scene.jitter.push_back({random.uniform(-0.03, 0.03), random.uniform(-0.03, 0.03), random.uniform(0.9, 1.1)});
    }
    const bool held_out = count == 1 && scene.background == Background::Plain &&
                          isHeldOut(scene.items[0], scene.background_colour);
    if (!held_out) return scene;  // otherwise draw again from the same stream
  }
}

image::Image renderScene(const ShapeScene& scene, int size) {
  if (size < 8) fail(ErrorCode::InvalidArgument, "shape images need a size of at least 8 pixels, got " + std::to_string(size));
  constexpr int kSamples = 4;  // per axis
  image::Image image = image::makeImage(size, size, 3);
  const auto& background = shapeColours()[scene.background_colour].rgb;
  const std::array<double, 3> top{double(background[0]), double(background[1]), double(background[2])};
  const std::array<double, 3> bottom = scene.background == Background::Gradient ? gradientEnd(background) : top;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      double sum[3] = {0, 0, 0};
      for (int sy = 0; sy < kSamples; ++sy) {
        for (int sx = 0; sx < kSamples; ++sx) {
          const double px = (x + (sx + 0.5) / kSamples) / size;  // [0, 1]
          const double py = (y + (sy + 0.5) / kSamples) / size;
          std::array<double, 3> colour;
          for (int c = 0; c < 3; ++c) colour[c] = top[c] + (bottom[c] - top[c]) * py;
          for (size_t i = 0; i < scene.items.size(); ++i) {
            const ShapeItem& item = scene.items[i];
            const auto jitter = i < scene.jitter.size() ? scene.jitter[i] : std::array<double, 3>{0, 0, 1};
            const auto centre = positionCentre(item.position);
            const double radius = (item.size == ShapeSize::Large ? kLargeRadius : kSmallRadius) * jitter[2];
            const double u = (px - centre[0] - jitter[0]) / radius;
            const double v = (py - centre[1] - jitter[1]) / radius;
            if (insideShape(item.shape, u, v)) {
              const auto& rgb = shapeColours()[item.colour].rgb;
              colour = {double(rgb[0]), double(rgb[1]), double(rgb[2])};
            }
          }
          for (int c = 0; c < 3; ++c) sum[c] += colour[c];
        }
      }
      uint8_t* pixel = image.pixel(x, y);
      for (int c = 0; c < 3; ++c) {
        pixel[c] = static_cast<uint8_t>(std::clamp(std::lround(sum[c] / (kSamples * kSamples)), 0L, 255L));
      }
    }
  }
  return image;
}

void writeShapesDataset(const ShapesOptions& options, const std::string& folder) {
  if (options.count <= 0) fail(ErrorCode::InvalidArgument, "--count must be positive, got " + std::to_string(options.count));
  if (options.size < 16) fail(ErrorCode::InvalidArgument, "--size must be at least 16, got " + std::to_string(options.size));
  std::error_code error;
  fs::create_directories(folder, error);
  if (error || !fs::is_directory(folder)) fail(ErrorCode::IoError, "cannot create the dataset folder " + folder);
  const int digits = std::max(5, static_cast<int>(std::to_string(options.count - 1).size()));
  for (int index = 0; index < options.count; ++index) {
    char name[32];
    std::snprintf(name, sizeof(name), "%0*d", digits, index);
    const ShapeScene scene = drawScene(options, index);
    const std::string base = (fs::path(folder) / name).string();
    image::writePng(base + ".png", renderScene(scene, options.size));
    const std::string caption = captionOf(scene) + "\n";
    AtomicFile text(base + ".txt");
    text.write(caption.data(), caption.size());
    text.commit();
  }
}

ShapesTensors renderShapesDataset(const ShapesOptions& options, int threads) {
  if (options.count <= 0) fail(ErrorCode::InvalidArgument, "--shapes-count must be positive, got " + std::to_string(options.count));
  if (options.size < 16) fail(ErrorCode::InvalidArgument, "the shapes image size must be at least 16, got " + std::to_string(options.size));
  const int64_t side = options.size;
  ShapesTensors result;
  result.images = at::empty({options.count, 3, side, side}, at::kByte);
  result.captions.resize(static_cast<size_t>(options.count));
  uint8_t* out = result.images.data_ptr<uint8_t>();
  // Each scene has its own RNG stream, so threads take interleaved indices and write disjoint slices.
  const int workers = std::max(1, std::min(threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency()),
                                           options.count));
  auto work = [&](int first) {
    for (int index = first; index < options.count; index += workers) {
      const ShapeScene scene = drawScene(options, index);
      const image::Image image = renderScene(scene, options.size);
      uint8_t* target = out + static_cast<int64_t>(index) * 3 * side * side;
      for (int64_t y = 0; y < side; ++y) {
        for (int64_t x = 0; x < side; ++x) {
          const uint8_t* pixel = image.pixel(x, y);
          for (int c = 0; c < 3; ++c) target[(c * side + y) * side + x] = pixel[c];  // HWC -> CHW
        }
      }
      result.captions[static_cast<size_t>(index)] = captionOf(scene);
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& thread : pool) thread.join();
  return result;
}

}  // namespace gesso::datasets
