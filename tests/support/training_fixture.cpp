// Tiny training sets and tensor-file comparison for the training tests; see training_fixture.h.
#include "training_fixture.h"

#include "gesso/image/image_io.h"
#include "gesso/io/safetensors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace gesso::test {

namespace {

struct Colour {
  const char* name;
  uint8_t r, g, b;
};
constexpr Colour kColours[] = {{"red", 220, 30, 30}, {"green", 30, 200, 60}, {"blue", 40, 60, 220}, {"yellow", 230, 220, 40}};

// Picture `index` of `kind` and its caption.
image::Image tinyImage(TinyImages kind, int index, std::string* caption) {
  image::Image img = image::makeImage(64, 64, 3);
  switch (kind) {
    case TinyImages::Squares: {
      const Colour& fg = kColours[index % 4];
      const Colour& bg = kColours[(index + 1 + index / 4) % 4];
      const int x0 = (index % 2) * 32, y0 = ((index / 2) % 2) * 32;
      for (int64_t y = 0; y < 64; ++y) {
        for (int64_t x = 0; x < 64; ++x) {
          const bool inside = x >= x0 && x < x0 + 32 && y >= y0 && y < y0 + 32;
          uint8_t* p = img.pixel(x, y);
          p[0] = inside ? fg.r : bg.r;
          p[1] = inside ? fg.g : bg.g;
          p[2] = inside ? fg.b : bg.b;
        }
      }
      *caption = std::string("a ") + fg.name + " square, " + bg.name + " background";
      break;
    }
    case TinyImages::PlainColours:
      for (size_t k = 0; k < img.data.size(); ++k) img.data[k] = static_cast<uint8_t>((k % 3 == size_t(index % 3)) ? 200 : 40 + 30 * index);
      *caption = "a plain colour " + std::to_string(index);
      break;
    case TinyImages::Patterns:
      for (size_t p = 0; p < img.data.size(); ++p) img.data[p] = static_cast<uint8_t>((p * (index + 3)) % 251);
      *caption = "a pattern number " + std::to_string(index);
      break;
  }
  return img;
}

}  // namespace

void writeTinyDataset(const std::string& folder, TinyImages kind, int count, int first) {
  std::filesystem::create_directories(folder);
  const std::string stem = folder + (kind == TinyImages::PlainColours ? "/image" : "/img");
  for (int i = first; i < first + count; ++i) {
    std::string caption;
    const image::Image img = tinyImage(kind, i, &caption);
    image::writePng(stem + std::to_string(i) + ".png", img);
    const std::string caption_path = stem + std::to_string(i) + ".txt";
    std::ofstream out(caption_path);
    out << caption;
    out.close();
    if (!out) throw std::runtime_error("could not write the caption " + caption_path);
  }
}

double maxFileDiff(const std::string& a_path, const std::string& b_path) {
  const auto a = io::SafetensorsFile::open(a_path);
  const auto b = io::SafetensorsFile::open(b_path);
  if (a->tensors().size() != b->tensors().size()) return INFINITY;
  double diff = 0;
  for (const auto& info : a->tensors()) {
    if (!b->contains(info.name)) return INFINITY;
    diff = std::max(diff, (a->tensor(info.name).to(at::kDouble) - b->tensor(info.name).to(at::kDouble)).abs().max().item<double>());
  }
  return diff;
}

}  // namespace gesso::test
