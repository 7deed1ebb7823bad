// Image files through OpenImageIO: any format in, 8-bit RGB(A) out; PNG out, atomically, with text chunks.
#include "gesso/image/image_io.h"

#include "gesso/error.h"
#include "util/atomic_file.h"

#include <OpenImageIO/filesystem.h>
#include <OpenImageIO/imageio.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace gesso::image {

namespace {

namespace oiio = OIIO;

std::string sizeText(int64_t width, int64_t height) { return std::to_string(width) + "x" + std::to_string(height); }

// Opens the file and returns the reader with its header read; nothing else is allocated yet.
std::unique_ptr<oiio::ImageInput> openImage(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) fail(ErrorCode::FileNotFound, path + ": no such file");
  if (!S_ISREG(status.st_mode)) fail(ErrorCode::InvalidArgument, path + ": not a regular file");
  // Straight (unassociated) alpha, as PNG stores it, so that composition and RGBA output are exact.
  oiio::ImageSpec config;
  config.attribute("oiio:UnassociatedAlpha", 1);
  // OpenImageIO picks the reader by extension and falls back to recognising the content (a JPEG named .png).
  auto input = oiio::ImageInput::open(path, &config);
  if (!input) {
    fail(ErrorCode::InvalidFormat, path + ": not a readable image (" + oiio::geterror() + ")");
  }
  const oiio::ImageSpec& spec = input->spec();
  if (spec.width <= 0 || spec.height <= 0 || spec.nchannels <= 0) {
    fail(ErrorCode::InvalidFormat, path + ": header gives an empty image (" + sizeText(spec.width, spec.height) + ", " +
                                       std::to_string(spec.nchannels) + " channels)");
  }
  if (spec.depth > 1 || spec.deep) fail(ErrorCode::InvalidFormat, path + ": volume and deep images are not supported");
  return input;
}

void checkLimits(const std::string& path, int64_t width, int64_t height, const ReadOptions& options) {
  if (width > options.max_side_pixels || height > options.max_side_pixels || width * height > options.max_pixel_count) {
    fail(ErrorCode::InvalidFormat, path + ": image size " + sizeText(width, height) + " exceeds the limit (at most " +
                                       std::to_string(options.max_side_pixels) + " pixels a side and " +
                                       std::to_string(options.max_pixel_count) + " pixels in all)");
  }
}

// Maps the decoded channels to RGB or RGBA. `straight` tells whether colour is unassociated from alpha.
Image toRgb(const std::vector<uint8_t>& raw, int64_t width, int64_t height, int channels, int alpha_channel, bool straight,
            const ReadOptions& options) {
  // Grey is channel 0 for 1-2 channels; RGB are channels 0-2 otherwise (OpenImageIO already turns CMYK into RGB);
  // channels beyond RGB and alpha are dropped.
  const bool grey = channels <= 2;
  if (alpha_channel < 0 && channels == 2) alpha_channel = 1;
  const bool has_alpha = alpha_channel >= 0 && alpha_channel < channels;
  const bool keep_alpha = has_alpha && options.alpha == AlphaMode::Keep;
  Image image = makeImage(width, height, keep_alpha ? 4 : 3);
  const int64_t pixels = width * height;
  for (int64_t i = 0; i < pixels; ++i) {
    const uint8_t* in = raw.data() + i * channels;
    uint8_t* out = image.data.data() + i * image.channels;
    int rgb[3] = {in[0], grey ? in[0] : in[1], grey ? in[0] : in[2]};
    if (has_alpha) {
      const int alpha = in[alpha_channel];
      if (keep_alpha) {
        if (!straight && alpha > 0) {
          for (int& c : rgb) c = std::min(255, (c * 255 + alpha / 2) / alpha);
        }
        out[3] = static_cast<uint8_t>(alpha);
      } else {
        for (int c = 0; c < 3; ++c) {
          const int background = options.background[static_cast<size_t>(c)] * (255 - alpha);
          const int colour = straight ? rgb[c] * alpha : rgb[c] * 255;
          rgb[c] = std::min(255, (colour + background + 127) / 255);
        }
      }
    }
    for (int c = 0; c < 3; ++c) out[c] = static_cast<uint8_t>(rgb[c]);
  }
  return image;
}

// EXIF/TIFF orientation: 1 upright, 2 mirrored, 3 rotated 180°, 4 flipped, 5 transposed, 6 needs 90° clockwise,
// 7 transversed, 8 needs 90° counter-clockwise. Returns the upright image.
Image applyOrientation(const Image& stored, int orientation) {
  if (orientation < 2 || orientation > 8) return stored;
  const int64_t w = stored.width;
  const int64_t h = stored.height;
  const bool swaps = orientation >= 5;
  Image upright = makeImage(swaps ? h : w, swaps ? w : h, stored.channels);
  for (int64_t y = 0; y < upright.height; ++y) {
    for (int64_t x = 0; x < upright.width; ++x) {
      int64_t sx = x, sy = y;  // the stored pixel shown at (x, y)
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x, sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y, sy = x; break;
        case 6: sx = y, sy = h - 1 - x; break;
        case 7: sx = w - 1 - y, sy = h - 1 - x; break;
        case 8: sx = w - 1 - y, sy = x; break;
        default: break;
      }
      std::memcpy(upright.pixel(x, y), stored.pixel(sx, sy), static_cast<size_t>(stored.channels));
    }
  }
  return upright;
}

}  // namespace

std::array<int64_t, 2> readImageSize(const std::string& path) {
  auto input = openImage(path);
  return {input->spec().width, input->spec().height};
}

Image readImage(const std::string& path, const ReadOptions& options) {
  auto input = openImage(path);
  const oiio::ImageSpec spec = input->spec();
  const int64_t width = spec.width;
  const int64_t height = spec.height;
  checkLimits(path, width, height, options);  // before any pixel memory exists
  const int channels = spec.nchannels;
  if (channels > 16) fail(ErrorCode::InvalidFormat, path + ": " + std::to_string(channels) + " channels is not an image Gesso reads");

  std::vector<uint8_t> raw(static_cast<size_t>(width * height * channels));
  // 16-bit and float data are scaled to 8 bits by OpenImageIO.
  const bool read = input->read_image(0, 0, 0, channels, oiio::TypeDesc::UINT8, raw.data());
  std::string problem = input->geterror();
  if (!read) {
    fail(ErrorCode::InvalidFormat, path + ": cannot decode the pixels (" + (problem.empty() ? "unknown error" : problem) +
                                       "); the file may be truncated or corrupt");
  }
  if (!problem.empty()) {
    fail(ErrorCode::InvalidFormat, path + ": decoding reported an error (" + problem + "); the file may be truncated or corrupt");
  }
  input->close();

  const bool straight = spec.get_int_attribute("oiio:UnassociatedAlpha", 0) != 0;
  Image image = toRgb(raw, width, height, channels, spec.alpha_channel, straight, options);
  if (options.apply_orientation) image = applyOrientation(image, spec.get_int_attribute("Orientation", 1));
  return image;
}

std::string encodePng(const Image& image, const std::vector<PngTextChunk>& text_chunks) {
  checkImage(image);
  std::vector<unsigned char> buffer;
  oiio::Filesystem::IOVecOutput memory(buffer);
  auto output = oiio::ImageOutput::create("image.png", &memory);
  if (!output) fail(ErrorCode::Internal, "OpenImageIO has no PNG writer (" + oiio::geterror() + ")");
  oiio::ImageSpec spec(static_cast<int>(image.width), static_cast<int>(image.height), image.channels, oiio::TypeDesc::UINT8);
  spec.alpha_channel = image.channels == 4 ? 3 : -1;
  spec.attribute("oiio:UnassociatedAlpha", 1);  // our alpha is straight already: write it as is
  if (!output->open("image.png", spec) || !output->write_image(oiio::TypeDesc::UINT8, image.data.data()) || !output->close()) {
    fail(ErrorCode::IoError, "PNG encoding failed (" + output->geterror() + ")");
  }
  return insertPngTextChunks(std::string_view(reinterpret_cast<const char*>(buffer.data()), buffer.size()), text_chunks);
}

void writePng(const std::string& path, const Image& image, const std::vector<PngTextChunk>& text_chunks) {
  const std::string bytes = encodePng(image, text_chunks);  // every failure of the content happens before the file exists
  AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace gesso::image
