// A synthetic captioned dataset of coloured shapes ("a large red circle on the left, blue background"), the
// training data of the bundled model. Deterministic: the same options give the same bytes.
#pragma once

#include "gesso/image/image.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace gesso::datasets {

enum class Shape { Circle, Square, Triangle, Star, Ring };
enum class ShapeSize { Small, Large };
enum class Position { Left, Right, Top, Bottom, Centre };
enum class Background { Plain, Gradient };

struct NamedColour {
  const char* name;
  std::array<uint8_t, 3> rgb;
};

// The eight named colours, the shapes, sizes and positions, in a fixed order (their enum values index these).
const std::vector<NamedColour>& shapeColours();
const std::vector<std::string>& shapeNames();
const std::vector<std::string>& sizeNames();
const std::vector<std::string>& positionNames();
// "on the left", "on the right", "at the top", "at the bottom", "in the centre".
std::string positionPhrase(Position position);
// The centre of a position as a fraction of the image side (x, y).
std::array<double, 2> positionCentre(Position position);

struct ShapeItem {
  Shape shape = Shape::Circle;
  int colour = 0;  // index into shapeColours()
  ShapeSize size = ShapeSize::Large;
  Position position = Position::Centre;
};

struct ShapeScene {
  std::vector<ShapeItem> items;  // one or two, at different positions and in colours unlike the background
  int background_colour = 0;
  Background background = Background::Plain;
  // Jitter (fractions of the side) drawn with the scene, so that positions and sizes vary a little.
  std::vector<std::array<double, 3>> jitter;  // per item: dx, dy, size scale
};

// "a large red circle on the left and a small blue star at the top, green background" (or "green gradient
// background").
std::string captionOf(const ShapeScene& scene);

// Scenes whose caption the generator never writes: single plain-background shapes whose (shape, colour, size,
// position, background colour) combination falls in a fixed 1-in-12 subset. The bundled model is tested on them.
bool isHeldOut(const ShapeItem& item, int background_colour);
// The held-out single-shape, plain-background scenes, in a fixed order.
std::vector<ShapeScene> heldOutScenes();

// Antialiased rendering (4×4 supersampling per pixel) at size × size.
image::Image renderScene(const ShapeScene& scene, int size);

struct ShapesOptions {
  int count = 1000;
  int size = 64;
  uint64_t seed = 0;
  double two_shape_fraction = 0.3;
  double gradient_fraction = 0.2;
};

// Scene `index` of the dataset with these options; scenes are independent of each other (each has its own RNG
// stream from seed and index), so any one can be regenerated alone.
ShapeScene drawScene(const ShapesOptions& options, int index);

// Writes options.count images as DIR/NNNNN.png with NNNNN.txt captions (files written atomically). Throws
// GessoError(InvalidArgument) for a non-positive count or a size below 16, IoError when the folder cannot be made.
void writeShapesDataset(const ShapesOptions& options, const std::string& folder);

// Scenes 0 .. options.count-1 rendered in memory: exactly the pixels (PNG is lossless 8-bit) and captions (without
// the trailing newline) that writeShapesDataset writes, with no image codec. Rendered on `threads` threads (0: all
// cores); the result does not depend on the thread count. Throws GessoError(InvalidArgument) as writeShapesDataset.
struct ShapesTensors {
  at::Tensor images;  // uint8 [N, 3, size, size]
  std::vector<std::string> captions;
};
ShapesTensors renderShapesDataset(const ShapesOptions& options, int threads = 0);

}  // namespace gesso::datasets
