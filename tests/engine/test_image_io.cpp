// Image reading through OpenImageIO (formats, bit depths, channel layouts, orientation, limits, damaged and misnamed
// files) and the conversion between images and VAE tensors. Fixtures are written here with OpenImageIO.
#include "gesso/image/image.h"

#include "gesso/error.h"
#include "expect_error.h"

#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>

#ifdef GESSO_WITH_IMAGE_IO
#include "gesso/image/image_io.h"
#include "gesso/image/png_text.h"

#include <OpenImageIO/imageio.h>

#include <cstdio>

#include <jpeglib.h>
#endif

#include <cmath>
#include <filesystem>
#include <fstream>

using gesso::ErrorCode;
using gesso::GessoError;
using namespace gesso::image;

namespace {

std::vector<uint8_t> gradient(int width, int height, int channels) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width * height * channels));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        pixels[static_cast<size_t>((y * width + x) * channels + c)] =
            static_cast<uint8_t>(c == 3 ? 40 + 50 * ((x + y) % 4) : (x * 5 + y * 3 + c * 40) % 256);
      }
    }
  }
  return pixels;
}

int maxDifference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) return 1 << 20;
  int worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(int(a[i]) - int(b[i])));
  return worst;
}

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeBytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string bigEndian(uint32_t value) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
  return out;
}

#ifdef GESSO_WITH_IMAGE_IO
// Writes pixels (given as 8-bit, stored as `format`) with OpenImageIO, with optional spec attributes.
void writeImage(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& pixels,
                OIIO::TypeDesc format = OIIO::TypeDesc::UINT8, const std::function<void(OIIO::ImageSpec&)>& adjust = {}) {
  auto output = OIIO::ImageOutput::create(path);
  QVERIFY2(output, OIIO::geterror().c_str());
  OIIO::ImageSpec spec(width, height, channels, format);
  if (channels == 2) spec.alpha_channel = 1;
  if (channels == 4) spec.alpha_channel = 3;
  spec.attribute("oiio:UnassociatedAlpha", 1);
  if (adjust) adjust(spec);
  QVERIFY2(output->open(path, spec), output->geterror().c_str());
  QVERIFY2(output->write_image(OIIO::TypeDesc::UINT8, pixels.data()), output->geterror().c_str());
  QVERIFY(output->close());
}

// A CMYK JPEG as Photoshop writes it: Adobe APP14 marker, ink values stored inverted (255 = no ink).
void writeAdobeCmykJpeg(const std::string& path, int width, int height, const std::vector<uint8_t>& cmyk) {
  FILE* file = std::fopen(path.c_str(), "wb");
  QVERIFY(file);
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, file);
  info.image_width = static_cast<JDIMENSION>(width);
  info.image_height = static_cast<JDIMENSION>(height);
  info.input_components = 4;
  info.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&info);
  jpeg_set_colorspace(&info, JCS_CMYK);  // also writes the Adobe marker
  jpeg_set_quality(&info, 98, TRUE);
  jpeg_start_compress(&info, TRUE);
  std::vector<uint8_t> row(static_cast<size_t>(width * 4));
  while (info.next_scanline < info.image_height) {
    const size_t y = info.next_scanline;
    for (size_t i = 0; i < row.size(); ++i) row[i] = static_cast<uint8_t>(255 - cmyk[y * row.size() + i]);
    JSAMPROW pointer = row.data();
    jpeg_write_scanlines(&info, &pointer, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(file);
}
#endif

// EXIF's orientation table: the side of the displayed image where the stored row 0 and column 0 end up.
enum class Side { Top, Bottom, Left, Right };
std::vector<uint8_t> displayAccordingToExif(const std::vector<uint8_t>& stored, int width, int height, int orientation,
                                            int& shown_width, int& shown_height) {
  static const Side row0[9] = {Side::Top, Side::Top, Side::Top, Side::Bottom, Side::Bottom, Side::Left, Side::Right, Side::Right, Side::Left};
  static const Side column0[9] = {Side::Left, Side::Left, Side::Right, Side::Right, Side::Left, Side::Top, Side::Top, Side::Bottom, Side::Bottom};
  const bool rows_horizontal = row0[orientation] == Side::Top || row0[orientation] == Side::Bottom;
  shown_width = rows_horizontal ? width : height;
  shown_height = rows_horizontal ? height : width;
  std::vector<uint8_t> shown(stored.size());
  for (int sy = 0; sy < height; ++sy) {
    for (int sx = 0; sx < width; ++sx) {
      int x = 0, y = 0;
      if (rows_horizontal) {
        y = row0[orientation] == Side::Top ? sy : height - 1 - sy;
        x = column0[orientation] == Side::Left ? sx : width - 1 - sx;
      } else {
        x = row0[orientation] == Side::Left ? sy : height - 1 - sy;
        y = column0[orientation] == Side::Top ? sx : width - 1 - sx;
      }
      for (int c = 0; c < 3; ++c) shown[static_cast<size_t>((y * shown_width + x) * 3 + c)] = stored[static_cast<size_t>((sy * width + sx) * 3 + c)];
    }
  }
  return shown;
}

}  // namespace

class ImageIoTest : public QObject {
  Q_OBJECT

 private slots:
  // ---- tensors (no image library needed) ----

  void tensorRoundTripIsExactWhenRounding() {
    Image image = makeImage(16, 16, 3);
    for (size_t i = 0; i < image.data.size(); ++i) image.data[i] = static_cast<uint8_t>(i % 256);
    const at::Tensor tensor = imageToTensor(image);
    QCOMPARE(tensor.sizes().vec(), (std::vector<int64_t>{1, 3, 16, 16}));
    QCOMPARE(tensor.scalar_type(), at::kFloat);
    QVERIFY(tensor.min().item<float>() >= -1.0f && tensor.max().item<float>() <= 1.0f);
    // channel-major: tensor[0, c, y, x] is byte (y, x, c)
    QCOMPARE(tensor[0][2][1][3].item<float>(), image.pixel(3, 1)[2] / 255.0f * 2.0f - 1.0f);
    QCOMPARE(tensorToImage(tensor, Quantization::Round).data, image.data);
    QCOMPARE(tensorToImage(tensor[0], Quantization::Round).data, image.data);  // [3, H, W] too
  }

  void alphaIsIgnoredByTensor() {
    Image rgba = makeImage(2, 1, 4);
    rgba.data = {10, 20, 30, 0, 40, 50, 60, 255};
    const at::Tensor tensor = imageToTensor(rgba);
    QCOMPARE(tensor.size(1), int64_t(3));
    QCOMPARE(tensorToImage(tensor, Quantization::Round).data, (std::vector<uint8_t>{10, 20, 30, 40, 50, 60}));
  }

  void quantization_data() {
    QTest::addColumn<float>("value");
    QTest::addColumn<int>("truncated");
    QTest::addColumn<int>("rounded");
    QTest::newRow("-1") << -1.0f << 0 << 0;
    QTest::newRow("1") << 1.0f << 255 << 255;
    QTest::newRow("0 (127.5)") << 0.0f << 127 << 128;
    QTest::newRow("clamped high") << 3.0f << 255 << 255;
    QTest::newRow("clamped low") << -7.5f << 0 << 0;
    QTest::newRow("-0.5 (63.75)") << -0.5f << 63 << 64;
  }
  void quantization() {
    QFETCH(float, value);
    QFETCH(int, truncated);
    QFETCH(int, rounded);
    const at::Tensor tensor = at::full({1, 3, 2, 2}, value);
    QCOMPARE(int(tensorToImage(tensor).data[0]), truncated);
    QCOMPARE(int(tensorToImage(tensor, Quantization::Round).data[0]), rounded);
    QCOMPARE(int(tensorToImage(tensor.to(at::kHalf).to(at::kFloat), Quantization::Round).data[5]),
             int(tensorToImage(tensor.to(at::kHalf), Quantization::Round).data[5]));  // half input accepted
  }

  void badTensorsAreRefused() {
    GESSO_EXPECT_ERROR(tensorToImage(at::zeros({1, 4, 2, 2})), ErrorCode::InvalidArgument, "[1, 4, 2, 2]");
    GESSO_EXPECT_ERROR(tensorToImage(at::zeros({2, 3, 2, 2})), ErrorCode::InvalidArgument, "[2, 3, 2, 2]");
    GESSO_EXPECT_ERROR(tensorToImage(at::zeros({1, 3, 2, 2}, at::kLong)), ErrorCode::InvalidArgument, "dtype");
    at::Tensor nan = at::zeros({1, 3, 2, 2});
    nan[0][1][1][0] = std::nanf("");
    GESSO_EXPECT_ERROR(tensorToImage(nan), ErrorCode::InvalidArgument, "NaN");
    QCOMPARE(tensorToImages(at::zeros({3, 3, 4, 5})).size(), size_t(3));
    Image broken = makeImage(4, 4, 3);
    broken.data.pop_back();
    GESSO_EXPECT_ERROR(imageToTensor(broken), ErrorCode::InvalidArgument, "holds 47 bytes");
    GESSO_EXPECT_ERROR(makeImage(4, 4, 2), ErrorCode::InvalidArgument, "3 or 4 channels");
  }

#ifdef GESSO_WITH_IMAGE_IO
  // ---- files ----

  void readsEachFormat_data() {
    QTest::addColumn<QString>("extension");
    QTest::addColumn<int>("tolerance");  // lossy formats
    QTest::newRow("png") << "png" << 0;
    QTest::newRow("bmp") << "bmp" << 0;
    QTest::newRow("tiff") << "tif" << 0;
    QTest::newRow("jpeg") << "jpg" << 6;
    QTest::newRow("webp") << "webp" << 6;
  }
  void readsEachFormat() {
    QFETCH(QString, extension);
    QFETCH(int, tolerance);
    QTemporaryDir dir;
    const std::string path = dir.filePath("picture." + extension).toStdString();
    const auto pixels = gradient(24, 16, 3);
    writeImage(path, 24, 16, 3, pixels, OIIO::TypeDesc::UINT8, [&](OIIO::ImageSpec& spec) {
      if (extension == "jpg") spec.attribute("Compression", "jpeg:98");
    });
    const Image image = readImage(path);
    QCOMPARE(image.width, int64_t(24));
    QCOMPARE(image.height, int64_t(16));
    QCOMPARE(image.channels, 3);
    const int difference = maxDifference(image.data, pixels);
    qInfo("max difference %d", difference);
    QVERIFY2(difference <= tolerance, qPrintable(QString::number(difference)));
    QCOMPARE(readImageSize(path), (std::array<int64_t, 2>{24, 16}));
  }

  void sixteenBitIsScaled_data() {
    QTest::addColumn<QString>("extension");
    QTest::newRow("png") << "png";
    QTest::newRow("tiff") << "tif";
  }
  void sixteenBitIsScaled() {
    QFETCH(QString, extension);
    QTemporaryDir dir;
    const std::string path = dir.filePath("deep." + extension).toStdString();
    const auto pixels = gradient(8, 4, 3);
    writeImage(path, 8, 4, 3, pixels, OIIO::TypeDesc::UINT16);
    auto input = OIIO::ImageInput::open(path);
    QCOMPARE(input->spec().format, OIIO::TypeDesc(OIIO::TypeDesc::UINT16));  // the fixture really is 16-bit
    input.reset();
    QCOMPARE(readImage(path).data, pixels);
  }

  void greyBecomesRgb() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("grey.png").toStdString();
    const auto grey = gradient(5, 3, 1);
    writeImage(path, 5, 3, 1, grey);
    const Image image = readImage(path);
    QCOMPARE(image.channels, 3);
    for (size_t i = 0; i < grey.size(); ++i) {
      QCOMPARE(image.data[i * 3], grey[i]);
      QCOMPARE(image.data[i * 3 + 1], grey[i]);
      QCOMPARE(image.data[i * 3 + 2], grey[i]);
    }
  }

  void alphaIsComposited_data() {
    QTest::addColumn<int>("channels");
    QTest::newRow("grey+alpha") << 2;
    QTest::newRow("rgba") << 4;
  }
  void alphaIsComposited() {
    QFETCH(int, channels);
    QTemporaryDir dir;
    const std::string path = dir.filePath("alpha.png").toStdString();
    std::vector<uint8_t> pixels = gradient(4, 4, channels);
    for (size_t i = 0; i < 16; ++i) pixels[i * channels + channels - 1] = static_cast<uint8_t>(i * 17);  // alpha 0..255
    writeImage(path, 4, 4, channels, pixels);
    ReadOptions options;
    options.background = {10, 200, 90};
    const Image composited = readImage(path, options);
    QCOMPARE(composited.channels, 3);
    for (size_t i = 0; i < 16; ++i) {
      const double alpha = pixels[i * channels + channels - 1] / 255.0;
      for (int c = 0; c < 3; ++c) {
        const int colour = pixels[i * channels + (channels == 2 ? 0 : c)];
        const double expected = colour * alpha + options.background[c] * (1 - alpha);
        QVERIFY2(std::abs(composited.data[i * 3 + c] - expected) <= 0.5 + 1e-9,
                 qPrintable(QString("pixel %1 channel %2: %3 vs %4").arg(i).arg(c).arg(composited.data[i * 3 + c]).arg(expected)));
      }
    }
    options.alpha = AlphaMode::Keep;
    const Image kept = readImage(path, options);
    QCOMPARE(kept.channels, 4);
    for (size_t i = 0; i < 16; ++i) {
      QCOMPARE(kept.data[i * 4 + 3], pixels[i * channels + channels - 1]);
      if (channels == 4 && pixels[i * 4 + 3] > 0) QCOMPARE(kept.data[i * 4 + 1], pixels[i * 4 + 1]);  // straight colour kept
    }
  }

  void cmykIsConverted_data() {
    QTest::addColumn<QString>("extension");
    QTest::newRow("tiff") << "tif";
    QTest::newRow("jpeg") << "jpg";
  }
  void cmykIsConverted() {
    QFETCH(QString, extension);
    QTemporaryDir dir;
    const std::string path = dir.filePath("print." + extension).toStdString();
    // Flat colours so that JPEG is nearly exact: cyan-ish, magenta-ish, grey, white.
    std::vector<uint8_t> cmyk;
    const uint8_t colours[4][4] = {{255, 0, 0, 0}, {0, 255, 0, 0}, {0, 0, 0, 128}, {0, 0, 0, 0}};
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x)
        for (int c = 0; c < 4; ++c) cmyk.push_back(colours[(x / 8) + 2 * (y / 8)][c]);
    if (extension == "jpg") {
      writeAdobeCmykJpeg(path, 16, 16, cmyk);
    } else {
      writeImage(path, 16, 16, 4, cmyk, OIIO::TypeDesc::UINT8, [](OIIO::ImageSpec& spec) {
        spec.alpha_channel = -1;
        spec.channelnames = {"C", "M", "Y", "K"};
        spec.attribute("tiff:ColorSpace", "CMYK");
      });
    }
    {
      auto input = OIIO::ImageInput::open(path, nullptr);
      QVERIFY(input);
      qInfo("stored as %d channels, %s", input->spec().nchannels, input->spec().get_string_attribute("tiff:ColorSpace",
                                                                                                    input->spec().get_string_attribute("jpeg:ColorSpace")).c_str());
    }
    const Image image = readImage(path);
    QCOMPARE(image.channels, 3);
    // RGB = 255 × (1 − C) × (1 − K) for each channel pair.
    const auto at = [&](int x, int y, int c) { return int(image.pixel(x, y)[c]); };
    const int tolerance = extension == "jpg" ? 8 : 1;
    QVERIFY2(std::abs(at(2, 2, 0) - 0) <= tolerance && std::abs(at(2, 2, 1) - 255) <= tolerance && std::abs(at(2, 2, 2) - 255) <= tolerance,
             qPrintable(QString("cyan %1 %2 %3").arg(at(2, 2, 0)).arg(at(2, 2, 1)).arg(at(2, 2, 2))));
    QVERIFY2(std::abs(at(12, 2, 0) - 255) <= tolerance && std::abs(at(12, 2, 1) - 0) <= tolerance,
             qPrintable(QString("magenta %1 %2 %3").arg(at(12, 2, 0)).arg(at(12, 2, 1)).arg(at(12, 2, 2))));
    QVERIFY2(std::abs(at(2, 12, 0) - 127) <= tolerance + 1, qPrintable(QString("grey %1").arg(at(2, 12, 0))));
    QVERIFY2(std::abs(at(12, 12, 2) - 255) <= tolerance, qPrintable(QString("white %1").arg(at(12, 12, 2))));
  }

  void orientationIsApplied_data() {
    QTest::addColumn<int>("orientation");
    for (int orientation = 1; orientation <= 8; ++orientation) QTest::newRow(qPrintable(QString::number(orientation))) << orientation;
  }
  void orientationIsApplied() {
    QFETCH(int, orientation);
    QTemporaryDir dir;
    const std::string path = dir.filePath("turned.tif").toStdString();
    const auto pixels = gradient(5, 3, 3);
    writeImage(path, 5, 3, 3, pixels, OIIO::TypeDesc::UINT8, [&](OIIO::ImageSpec& spec) { spec.attribute("Orientation", orientation); });
    {
      auto input = OIIO::ImageInput::open(path);
      QCOMPARE(input->spec().get_int_attribute("Orientation", 1), orientation);  // the fixture carries it
    }
    // The reference follows the EXIF table directly (the same result as PIL's ImageOps.exif_transpose).
    // Note: OpenImageIO 2.4's ImageBufAlgo::reorient swaps orientations 5 and 7 against this table.
    int shown_width = 0, shown_height = 0;
    const std::vector<uint8_t> expected = displayAccordingToExif(pixels, 5, 3, orientation, shown_width, shown_height);
    const Image image = readImage(path);
    QCOMPARE(image.width, int64_t(shown_width));
    QCOMPARE(image.height, int64_t(shown_height));
    QCOMPARE(image.data, expected);
    ReadOptions raw;
    raw.apply_orientation = false;
    QCOMPARE(readImage(path, raw).data, pixels);
    if (orientation == 6) {  // "rotate 90° clockwise to view": the stored bottom-left pixel shows at the top-left
      QCOMPARE(image.width, int64_t(3));
      QCOMPARE(std::vector<uint8_t>(image.pixel(0, 0), image.pixel(0, 0) + 3),
               std::vector<uint8_t>(pixels.begin() + 2 * 5 * 3, pixels.begin() + 2 * 5 * 3 + 3));
    }
  }

  void jpegOrientationIsApplied() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("phone.jpg").toStdString();
    // 32×16: left half red, right half blue; orientation 8 (rotate 90° counter-clockwise to view).
    std::vector<uint8_t> pixels;
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 32; ++x) pixels.insert(pixels.end(), x < 16 ? std::initializer_list<uint8_t>{255, 0, 0} : std::initializer_list<uint8_t>{0, 0, 255});
    writeImage(path, 32, 16, 3, pixels, OIIO::TypeDesc::UINT8, [](OIIO::ImageSpec& spec) { spec.attribute("Orientation", 8); });
    const Image image = readImage(path);
    QCOMPARE(image.width, int64_t(16));
    QCOMPARE(image.height, int64_t(32));
    // Counter-clockwise: the right (blue) half goes to the top.
    QVERIFY(image.pixel(8, 4)[2] > 200 && image.pixel(8, 4)[0] < 50);
    QVERIFY(image.pixel(8, 28)[0] > 200 && image.pixel(8, 28)[2] < 50);
  }

  void hugeHeaderIsRefusedBeforeAllocation() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("bomb.png").toStdString();
    // A valid PNG header claiming 65535×65535 RGBA (16 GiB of pixels), then a tiny IDAT and IEND.
    std::string ihdr = bigEndian(65535) + bigEndian(65535) + std::string("\x08\x06\x00\x00\x00", 5);
    std::string png("\x89PNG\r\n\x1a\n", 8);
    const auto chunk = [&](const std::string& type, const std::string& data) {
      png += bigEndian(static_cast<uint32_t>(data.size())) + type + data + bigEndian(static_cast<uint32_t>(pngCrc(type, data)));
    };
    chunk("IHDR", ihdr);
    chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8));
    chunk("IEND", "");
    writeBytes(path, png);
    GESSO_EXPECT_ERROR(readImage(path), ErrorCode::InvalidFormat, "65535x65535");
    GESSO_EXPECT_ERROR(readImage(path), ErrorCode::InvalidFormat, path);
    QCOMPARE(readImageSize(path), (std::array<int64_t, 2>{65535, 65535}));  // the header itself is fine

    const std::string small = dir.filePath("small.png").toStdString();
    writeImage(small, 64, 8, 3, gradient(64, 8, 3));
    ReadOptions options;
    options.max_side_pixels = 32;
    GESSO_EXPECT_ERROR(readImage(small, options), ErrorCode::InvalidFormat, "64x8 exceeds");
    options = {};
    options.max_pixel_count = 511;
    GESSO_EXPECT_ERROR(readImage(small, options), ErrorCode::InvalidFormat, "64x8 exceeds");
    options.max_pixel_count = 512;
    QCOMPARE(readImage(small, options).width, int64_t(64));
  }

  void truncatedFilesFailClearly_data() {
    QTest::addColumn<QString>("extension");
    QTest::newRow("png") << "png";
    QTest::newRow("jpeg") << "jpg";
    QTest::newRow("tiff") << "tif";
    QTest::newRow("webp") << "webp";
  }
  void truncatedFilesFailClearly() {
    QFETCH(QString, extension);
    QTemporaryDir dir;
    const std::string whole = dir.filePath("whole." + extension).toStdString();
    std::vector<uint8_t> noise(64 * 64 * 3);
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    writeImage(whole, 64, 64, 3, noise);
    const std::string bytes = readBytes(whole);
    for (const double fraction : {0.6, 0.1}) {
      const std::string cut = dir.filePath(QString("cut%1.").arg(fraction) + extension).toStdString();
      writeBytes(cut, bytes.substr(0, static_cast<size_t>(bytes.size() * fraction)));
      try {
        const Image image = readImage(cut);
        // A decoder may fill the missing rows (libjpeg does, with a warning); then the size must still be right.
        qInfo("%s cut to %.0f%% loaded", qPrintable(extension), fraction * 100);
        QCOMPARE(image.width, int64_t(64));
        QCOMPARE(image.height, int64_t(64));
      } catch (const GessoError& error) {
        qInfo("%s", error.error().message().c_str());
        QCOMPARE(int(error.error().code), int(ErrorCode::InvalidFormat));
        QVERIFY(error.error().detail.find(cut) != std::string::npos);
      }
    }
  }

  void contentDecidesNotTheExtension() {
    QTemporaryDir dir;
    const auto pixels = gradient(24, 16, 3);
    const std::string jpeg = dir.filePath("real.jpg").toStdString();
    writeImage(jpeg, 24, 16, 3, pixels);
    const std::string misnamed = dir.filePath("actually_jpeg.png").toStdString();
    writeBytes(misnamed, readBytes(jpeg));
    const Image image = readImage(misnamed);
    QCOMPARE(image.width, int64_t(24));
    QVERIFY(maxDifference(image.data, pixels) <= 24);

    const std::string png = dir.filePath("real.png").toStdString();
    writeImage(png, 24, 16, 3, pixels);
    const std::string misnamed_png = dir.filePath("actually_png.jpg").toStdString();
    writeBytes(misnamed_png, readBytes(png));
    QCOMPARE(readImage(misnamed_png).data, pixels);
  }

  void unreadableFilesFailClearly() {
    QTemporaryDir dir;
    const std::string garbage = dir.filePath("garbage.png").toStdString();
    writeBytes(garbage, std::string(300, 'x'));
    GESSO_EXPECT_ERROR(readImage(garbage), ErrorCode::InvalidFormat, garbage);
    const std::string empty = dir.filePath("empty.jpg").toStdString();
    writeBytes(empty, "");
    GESSO_EXPECT_ERROR(readImage(empty), ErrorCode::InvalidFormat, empty);
    GESSO_EXPECT_ERROR(readImage(dir.filePath("missing.png").toStdString()), ErrorCode::FileNotFound, "missing.png");
    GESSO_EXPECT_ERROR(readImage(dir.path().toStdString()), ErrorCode::InvalidArgument, "not a regular file");
  }

  void pngWriteReadRoundTrip_data() {
    QTest::addColumn<int>("channels");
    QTest::newRow("rgb") << 3;
    QTest::newRow("rgba") << 4;
  }
  void pngWriteReadRoundTrip() {
    QFETCH(int, channels);
    QTemporaryDir dir;
    const std::string path = dir.filePath("out.png").toStdString();
    Image image = makeImage(7, 5, channels);
    image.data = gradient(7, 5, channels);
    writePng(path, image);
    ReadOptions keep;
    keep.alpha = AlphaMode::Keep;
    const Image back = readImage(path, keep);
    QCOMPARE(back.channels, channels);
    QCOMPARE(back.data, image.data);
  }
#endif
};

QTEST_GUILESS_MAIN(ImageIoTest)
#include "test_image_io.moc"
