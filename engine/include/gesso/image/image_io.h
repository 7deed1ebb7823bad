// Reading images of any common format into 8-bit RGB(A), and writing PNG files atomically with text chunks.
// Compiled only with OpenImageIO (GESSO_WITH_IMAGE_IO); the PNG text-chunk helpers in png_text.h need no library.
#pragma once

#include "gesso/image/image.h"
#include "gesso/image/png_text.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace gesso::image {

enum class AlphaMode {
  Composite,  // blend over ReadOptions::background and return RGB (what img2img wants, as AUTOMATIC1111 does)
  Keep,       // return RGBA (straight alpha) when the file has alpha, RGB otherwise
};

struct ReadOptions {
  // Checked from the header before any pixel memory is allocated.
  int64_t max_side_pixels = 16384;
  int64_t max_pixel_count = 8192LL * 8192LL;
  AlphaMode alpha = AlphaMode::Composite;
  std::array<uint8_t, 3> background{255, 255, 255};
  bool apply_orientation = true;  // EXIF/TIFF orientation 1-8 turned into upright pixels
};

// PNG, JPEG, WebP, BMP, TIFF and whatever else OpenImageIO reads; the format is recognised by content, so a JPEG
// named .png loads. Any bit depth (16-bit and float are scaled to 8 bits), grey, grey+alpha, RGB, RGBA, CMYK.
// Throws GessoError: FileNotFound, InvalidFormat (unreadable, truncated, too large: the message names the file and
// the size), IoError.
Image readImage(const std::string& path, const ReadOptions& options = {});

// Reads only the header: {width, height} as stored (before orientation). Same errors as readImage.
std::array<int64_t, 2> readImageSize(const std::string& path);

// Writes `image` as an 8-bit PNG with the given text chunks (before the image data), atomically: the bytes are
// assembled in memory, written to a temporary file beside `path`, flushed and renamed over it. On any failure the
// previous file at `path` is untouched and no temporary file remains. Throws GessoError(InvalidArgument, IoError).
void writePng(const std::string& path, const Image& image, const std::vector<PngTextChunk>& text_chunks = {});

// The PNG bytes writePng would write.
std::string encodePng(const Image& image, const std::vector<PngTextChunk>& text_chunks = {});

}  // namespace gesso::image
