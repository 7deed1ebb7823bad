// Image reading and writing in a build without OpenImageIO (GESSO_WITH_IMAGE_IO=OFF): the numeric core still builds
// and runs, and whatever needs an image codec fails with an error saying why.
#include "gesso/error.h"
#include "gesso/image/image_io.h"

namespace gesso::image {

namespace {
[[noreturn]] void unavailable(const std::string& path) {
  fail(ErrorCode::InvalidArgument,
       path + ": this build of Gesso has no image codecs (built with GESSO_WITH_IMAGE_IO=OFF, without OpenImageIO)");
}
}  // namespace

Image readImage(const std::string& path, const ReadOptions&) { unavailable(path); }

std::array<int64_t, 2> readImageSize(const std::string& path) { unavailable(path); }

void writePng(const std::string& path, const Image&, const std::vector<PngTextChunk>&) { unavailable(path); }

std::string encodePng(const Image&, const std::vector<PngTextChunk>&) { unavailable("PNG encoding"); }

}  // namespace gesso::image
