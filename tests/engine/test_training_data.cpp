// The training dataset on real files: the pre-scan (captions, masks, sub-folders, every bad image named and skipped),
// aspect buckets, and loading examples (resize, crop, flip, mask, alpha, orientation) against computed expectations.
// Fixtures are written here with OpenImageIO.
#include "gesso/training/dataset.h"

#include "gesso/error.h"
#include "expect_error.h"

#include <ATen/ATen.h>
#include <QCryptographicHash>
#include <QTemporaryDir>
#include <QtTest>

#ifdef GESSO_WITH_IMAGE_IO
#include "gesso/image/image_io.h"
#include "gesso/image/png_text.h"
#include "gesso/util/process_memory.h"

#include <OpenImageIO/imageio.h>
#endif

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

using namespace gesso::training;
using gesso::ErrorCode;

namespace {

namespace fs = std::filesystem;

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeBytes(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string sha256Of(const std::string& path) {
  return QCryptographicHash::hash(QByteArray::fromStdString(readBytes(path)), QCryptographicHash::Sha256).toHex().toStdString();
}

std::string bigEndian(uint32_t value) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
  return out;
}

#ifdef GESSO_WITH_IMAGE_IO
// Writes pixels given as `type` (8- or 16-bit) with OpenImageIO; the file format follows the extension.
void writeImage(const std::string& path, int width, int height, int channels, const void* pixels,
                OIIO::TypeDesc type = OIIO::TypeDesc::UINT8, const std::function<void(OIIO::ImageSpec&)>& adjust = {}) {
  fs::create_directories(fs::path(path).parent_path());
  auto output = OIIO::ImageOutput::create(path);
  QVERIFY2(output, OIIO::geterror().c_str());
  OIIO::ImageSpec spec(width, height, channels, type);
  if (channels == 2) spec.alpha_channel = 1;
  if (channels == 4) spec.alpha_channel = 3;
  spec.attribute("oiio:UnassociatedAlpha", 1);
  if (adjust) adjust(spec);
  QVERIFY2(output->open(path, spec), output->geterror().c_str());
  QVERIFY2(output->write_image(type, pixels), output->geterror().c_str());
  QVERIFY(output->close());
}

// An RGB image whose channels are functions of (x, y).
std::vector<uint8_t> pattern(int width, int height, const std::function<std::array<int, 3>(int, int)>& colour) {
  std::vector<uint8_t> pixels;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int value : colour(x, y)) pixels.push_back(static_cast<uint8_t>(value));
  return pixels;
}

void writeRgb(const std::string& path, int width, int height, const std::function<std::array<int, 3>(int, int)>& colour) {
  const auto pixels = pattern(width, height, colour);
  writeImage(path, width, height, 3, pixels.data());
}

std::array<int, 3> flatGrey(int, int) { return {128, 128, 128}; }

// A valid PNG header claiming width × height RGB, followed by a tiny IDAT: what a decompression bomb looks like.
void writePngHeaderOnly(const std::string& path, uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  const auto chunk = [&](const std::string& type, const std::string& data) {
    png += bigEndian(static_cast<uint32_t>(data.size())) + type + data + bigEndian(static_cast<uint32_t>(gesso::image::pngCrc(type, data)));
  };
  chunk("IHDR", bigEndian(width) + bigEndian(height) + std::string("\x08\x02\x00\x00\x00", 5));
  chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8));
  chunk("IEND", "");
  writeBytes(path, png);
}

DatasetOptions smallOptions(const std::string& folder) {
  DatasetOptions options;
  options.folder = folder;
  options.resolution = 64;
  options.bucket_step = 16;  // buckets 32x128, 48x80, 64x64, 80x48, 128x32
  return options;
}

const DatasetItem* findItem(const DatasetScan& scan, const std::string& path) {
  for (const auto& item : scan.items)
    if (item.image_path == path) return &item;
  return nullptr;
}

double maxAbs(const at::Tensor& tensor) { return tensor.abs().max().item<double>(); }
#endif

}  // namespace

class TrainingDataTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
#ifndef GESSO_WITH_IMAGE_IO
    QSKIP("built without OpenImageIO: datasets cannot be read");
#endif
  }

#ifdef GESSO_WITH_IMAGE_IO
  void scanFindsImagesCaptionsAndMasks() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    writeRgb(root + "/a.png", 64, 48, flatGrey);
    writeBytes(root + "/a.txt", "\xEF\xBB\xBF  red fox, snow \r\n");
    writeRgb(root + "/sub/b.jpg", 48, 64, flatGrey);  // no caption
    writeRgb(root + "/sub/b2.png", 40, 40, flatGrey);
    writeRgb(root + "/sub/b2.mask.png", 40, 40, flatGrey);
    writeRgb(root + "/sub/deeper/c.webp", 120, 30, flatGrey);
    writeBytes(root + "/sub/deeper/c.txt", "line one\nline two");
    writeRgb(root + "/sub/deeper/caf\xC3\xA9.bmp", 30, 120, flatGrey);
    writeBytes(root + "/sub/deeper/caf\xC3\xA9.txt", "caf\xC3\xA9 au lait");
    writeRgb(root + "/UPPER.JPEG", 64, 64, flatGrey);
    writeRgb(root + "/d.tiff", 50, 40, flatGrey);
    writeBytes(root + "/notes.json", "{}");
    writeBytes(root + "/orphan.txt", "nobody's caption");
    writeRgb(root + "/.hidden/x.png", 8, 8, flatGrey);
    writeBytes(root + "/.DS_Store", "junk");

    int64_t last_done = -1, last_total = -1;
    const DatasetOptions options = smallOptions(root);
    const DatasetScan scan = scanDataset(options, [&](int64_t done, int64_t total) {
      QVERIFY(done >= last_done);
      last_done = done, last_total = total;
    });
    QCOMPARE(last_done, int64_t(7));
    QCOMPARE(last_total, int64_t(7));

    const std::vector<std::string> expected_paths{root + "/UPPER.JPEG", root + "/a.png", root + "/d.tiff", root + "/sub/b.jpg",
                                                  root + "/sub/b2.png", root + "/sub/deeper/c.webp",
                                                  root + "/sub/deeper/caf\xC3\xA9.bmp"};
    std::vector<std::string> paths;
    for (const auto& item : scan.items) paths.push_back(item.image_path);
    QCOMPARE(paths, expected_paths);
    QCOMPARE(scan.skipped.size(), size_t(2));
    QCOMPARE(scan.skipped[0].path, root + "/notes.json");
    QVERIFY(scan.skipped[0].reason.find("not an image") != std::string::npos);
    QCOMPARE(scan.skipped[1].path, root + "/orphan.txt");
    QVERIFY(scan.skipped[1].reason.find("caption without an image") != std::string::npos);

    const auto* a = findItem(scan, root + "/a.png");
    QCOMPARE(a->caption, std::string("red fox, snow"));
    QCOMPARE(a->width, int64_t(64));
    QCOMPARE(a->height, int64_t(48));
    QCOMPARE(std::make_pair(a->bucket_width, a->bucket_height), std::make_pair(80, 48));  // 4:3 nearest 5:3
    QCOMPARE(a->content_hash, sha256Of(root + "/a.png"));
    QVERIFY(a->mask_path.empty() && a->mask_hash.empty());
    QCOMPARE(findItem(scan, root + "/sub/b.jpg")->caption, std::string());
    QCOMPARE(std::make_pair(findItem(scan, root + "/sub/b.jpg")->bucket_width, findItem(scan, root + "/sub/b.jpg")->bucket_height), std::make_pair(48, 80));
    const auto* b2 = findItem(scan, root + "/sub/b2.png");
    QCOMPARE(b2->mask_path, root + "/sub/b2.mask.png");
    QCOMPARE(b2->mask_hash, sha256Of(root + "/sub/b2.mask.png"));
    QCOMPARE(findItem(scan, root + "/sub/deeper/c.webp")->caption, std::string("line one line two"));
    QCOMPARE(std::make_pair(findItem(scan, root + "/sub/deeper/c.webp")->bucket_width, findItem(scan, root + "/sub/deeper/c.webp")->bucket_height), std::make_pair(128, 32));
    QCOMPARE(findItem(scan, root + "/sub/deeper/caf\xC3\xA9.bmp")->caption, std::string("caf\xC3\xA9 au lait"));

    std::map<std::pair<int, int>, int> counts;
    for (const auto& item : scan.items) ++counts[{item.bucket_width, item.bucket_height}];
    QCOMPARE(scan.bucket_counts, counts);
    qInfo("%s", scanSummary(scan).c_str());
    QCOMPARE(scanSummary(scan), std::string("7 images in 5 buckets (32x128: 1, 48x80: 1, 64x64: 3, 80x48: 1, 128x32: 1); 2 files skipped"));

    // Buckets off: one square bucket of the resolution.
    DatasetOptions square = options;
    square.buckets = false;
    const DatasetScan square_scan = scanDataset(square);
    QCOMPARE(square_scan.bucket_counts.size(), size_t(1));
    QCOMPARE(square_scan.bucket_counts.begin()->first, std::make_pair(64, 64));
    // The same folder scanned again gives the same result, item for item.
    const DatasetScan again = scanDataset(options);
    QCOMPARE(again.items.size(), scan.items.size());
    for (size_t i = 0; i < scan.items.size(); ++i) QCOMPARE(again.items[i].content_hash, scan.items[i].content_hash);
  }

  void badFilesAreNamedAndSkipped() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    writeRgb(root + "/good.png", 64, 64, flatGrey);

    // Truncated PNG: noise (which does not compress) cut in half.
    std::vector<uint8_t> noise(64 * 64 * 3);
    for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    writeImage(root + "/whole.png", 64, 64, 3, noise.data());
    const std::string whole = readBytes(root + "/whole.png");
    fs::remove(root + "/whole.png");
    writeBytes(root + "/truncated.png", whole.substr(0, whole.size() / 2));

    // A JPEG named .png: loaded (by content).
    writeRgb(root + "/tmp.jpg", 40, 24, [](int, int) { return std::array<int, 3>{200, 40, 40}; });
    writeBytes(root + "/jpeg_named.png", readBytes(root + "/tmp.jpg"));
    fs::remove(root + "/tmp.jpg");

    // 16-bit grey: 0x4000 is 63.75 in 8 bits (16-bit values map to 8 bits by / 257).
    std::vector<uint16_t> grey16(32 * 32, 0x4000);
    writeImage(root + "/grey16.png", 32, 32, 1, grey16.data(), OIIO::TypeDesc::UINT16);

    // CMYK TIFF, pure cyan ink: RGB (0, 255, 255).
    std::vector<uint8_t> cmyk;
    for (int i = 0; i < 32 * 32; ++i) cmyk.insert(cmyk.end(), {255, 0, 0, 0});
    writeImage(root + "/cmyk.tif", 32, 32, 4, cmyk.data(), OIIO::TypeDesc::UINT8, [](OIIO::ImageSpec& spec) {
      spec.alpha_channel = -1;
      spec.channelnames = {"C", "M", "Y", "K"};
      spec.attribute("tiff:ColorSpace", "CMYK");
    });

    // A header claiming 20000×15000 (900 MB of RGB): refused before any pixel memory is allocated.
    writePngHeaderOnly(root + "/huge.png", 20000, 15000);
    writeBytes(root + "/garbage.png", std::string(300, 'x'));
    writeBytes(root + "/empty.jpg", "");
    writeRgb(root + "/badcaption.png", 16, 16, flatGrey);
    writeBytes(root + "/badcaption.txt", "caf\xE9 (latin-1, not UTF-8)");
    writeRgb(root + "/badmask.png", 32, 32, flatGrey);
    writeRgb(root + "/badmask.mask.png", 16, 16, flatGrey);
    writeRgb(root + "/brokenmask.png", 32, 32, flatGrey);
    writeBytes(root + "/brokenmask.mask.png", "not a png");

    const uint64_t peak_before = gesso::processMemory().peak_resident_bytes;
    const DatasetScan scan = scanDataset(smallOptions(root));
    const uint64_t peak_after = gesso::processMemory().peak_resident_bytes;
    qInfo("peak resident memory grew by %.1f MB during the scan", (peak_after - peak_before) / 1e6);
    QVERIFY(peak_after - peak_before < 300'000'000ull);

    for (const auto& skipped : scan.skipped) qInfo("skipped %s: %s", skipped.path.c_str(), skipped.reason.c_str());
    const std::map<std::string, std::string> expected_skips{
        {root + "/truncated.png", "truncated"},        {root + "/huge.png", "20000x15000 exceeds"},
        {root + "/garbage.png", "not a readable image"}, {root + "/empty.jpg", "not a readable image"},
        {root + "/badcaption.png", "not UTF-8"},        {root + "/badmask.png", "16x16"},
        {root + "/brokenmask.png", "mask " + root + "/brokenmask.mask.png"}};
    QCOMPARE(scan.skipped.size(), expected_skips.size());
    for (const auto& skipped : scan.skipped) {
      const auto expected = expected_skips.find(skipped.path);
      QVERIFY2(expected != expected_skips.end(), skipped.path.c_str());
      QVERIFY2(skipped.reason.find(expected->second) != std::string::npos, (skipped.reason + " lacks " + expected->second).c_str());
    }

    std::vector<std::string> loaded;
    for (const auto& item : scan.items) loaded.push_back(fs::path(item.image_path).filename().string());
    QCOMPARE(loaded, (std::vector<std::string>{"cmyk.tif", "good.png", "grey16.png", "jpeg_named.png"}));
    const DatasetOptions options = smallOptions(root);
    const auto colourOf = [&](const std::string& name) {
      const DatasetItem* item = findItem(scan, root + "/" + name);
      std::mt19937_64 rng(0);
      const Example example = loadExample(*item, options, drawAugmentation(*item, options, rng));
      return ((example.pixels.mean({1, 2}) + 1) * 127.5).to(at::kDouble);  // mean colour in 0..255
    };
    const at::Tensor jpeg = colourOf("jpeg_named.png");
    QVERIFY2(std::abs(jpeg[0].item<double>() - 200) < 6 && std::abs(jpeg[1].item<double>() - 40) < 6, "JPEG colour");
    QCOMPARE(findItem(scan, root + "/jpeg_named.png")->width, int64_t(40));
    const at::Tensor grey = colourOf("grey16.png");
    qInfo("16-bit grey 0x4000 read as %.2f (expected 63.75, rounded or not)", grey[0].item<double>());
    QVERIFY(std::abs(grey[0].item<double>() - 63.75) < 0.8 && std::abs(grey[2].item<double>() - 63.75) < 0.8);
    const at::Tensor cyan = colourOf("cmyk.tif");
    qInfo("CMYK cyan read as (%.1f, %.1f, %.1f)", cyan[0].item<double>(), cyan[1].item<double>(), cyan[2].item<double>());
    QVERIFY(cyan[0].item<double>() < 1 && cyan[1].item<double>() > 254 && cyan[2].item<double>() > 254);
  }

  void scanFailsOnlyWithoutUsableImages() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    GESSO_EXPECT_ERROR(scanDataset(smallOptions(root + "/missing")), ErrorCode::FileNotFound, "missing");
    GESSO_EXPECT_ERROR(scanDataset(smallOptions(root)), ErrorCode::InvalidArgument, "no usable image");
    writeBytes(root + "/garbage.png", "xxxx");
    GESSO_EXPECT_ERROR(scanDataset(smallOptions(root)), ErrorCode::InvalidArgument, root + "/garbage.png");
    DatasetOptions options = smallOptions(root);
    options.caption_dropout = 1.5;
    GESSO_EXPECT_ERROR(scanDataset(options), ErrorCode::InvalidArgument, "caption dropout");
    // A progress callback that throws (a cancelled scan) stops the scan; its exception comes out.
    for (int i = 0; i < 20; ++i) writeRgb(root + "/many" + std::to_string(i) + ".png", 32, 32, flatGrey);
    GESSO_EXPECT_ERROR(scanDataset(smallOptions(root), [](int64_t, int64_t) { gesso::fail(ErrorCode::Cancelled, "scan cancelled"); }),
                       ErrorCode::Cancelled, "scan cancelled");
    QCOMPARE(scanDataset(smallOptions(root)).items.size(), size_t(20));
  }

  void orientationGivesTheUprightSize() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    // Stored 32×16, left half red, right half blue; orientation 6 ("rotate 90° clockwise to view"): upright 16×32
    // with the red half on top.
    const auto pixels = pattern(32, 16, [](int x, int) { return x < 16 ? std::array<int, 3>{255, 0, 0} : std::array<int, 3>{0, 0, 255}; });
    writeImage(root + "/phone.tif", 32, 16, 3, pixels.data(), OIIO::TypeDesc::UINT8,
               [](OIIO::ImageSpec& spec) { spec.attribute("Orientation", 6); });
    QCOMPARE(gesso::image::readImageSize(root + "/phone.tif"), (std::array<int64_t, 2>{32, 16}));  // the header: as stored
    const DatasetOptions options = smallOptions(root);
    const DatasetScan scan = scanDataset(options);
    const DatasetItem& item = scan.items.at(0);
    QCOMPARE(item.width, int64_t(16));
    QCOMPARE(item.height, int64_t(32));
    QCOMPARE(std::make_pair(item.bucket_width, item.bucket_height), std::make_pair(48, 80));
    std::mt19937_64 rng(0);
    const Example example = loadExample(item, options, drawAugmentation(item, options, rng));
    QCOMPARE(example.pixels.sizes().vec(), (std::vector<int64_t>{3, 80, 48}));
    QCOMPARE(example.original_width, int64_t(16));
    QCOMPARE(example.crop_top, int64_t(8));  // covered 48×96, centred
    QVERIFY(example.pixels[0][5][20].item<float>() > 0.99f && example.pixels[2][5][20].item<float>() < -0.99f);    // red on top
    QVERIFY(example.pixels[2][75][20].item<float>() > 0.99f && example.pixels[0][75][20].item<float>() < -0.99f);  // blue below
  }

  void examplesAreResizedCroppedAndFlipped() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    // 128×64, red a ramp in x (2x), blue a ramp in y (4y). 2:1 goes to the 80×48 bucket, covered at 96×48
    // (scale 0.75), so the centre crop starts at x = 8.
    writeRgb(root + "/ramp.png", 128, 64, [](int x, int y) { return std::array<int, 3>{2 * x, 100, 4 * y}; });
    writeImage(root + "/ramp.mask.png", 128, 64, 3, pattern(128, 64, [](int x, int) { return std::array<int, 3>{2 * x, 2 * x, 2 * x}; }).data());
    DatasetOptions options = smallOptions(root);
    const DatasetScan scan = scanDataset(options);
    const DatasetItem& item = scan.items.at(0);
    QCOMPARE(std::make_pair(item.bucket_width, item.bucket_height), std::make_pair(80, 48));
    std::mt19937_64 rng(11);
    const Augmentation centre = drawAugmentation(item, options, rng);
    QCOMPARE(centre.crop_left, int64_t(8));
    QCOMPARE(centre.crop_top, int64_t(0));
    QVERIFY(!centre.flip);

    // A resampling kernel that is symmetric and sums to one keeps a linear ramp linear: the output column j samples
    // the source at (j + 0.5) / 0.75 - 0.5.
    const auto expectedRed = [](int64_t column) {
      const double source = (double(column) + 0.5) / 0.75 - 0.5;
      return 2.0 * source / 127.5 - 1.0;
    };
    const auto checkRamp = [&](const Example& example, int64_t crop_left, bool flipped) {
      QCOMPARE(example.pixels.sizes().vec(), (std::vector<int64_t>{3, 48, 80}));
      QCOMPARE(example.pixels.scalar_type(), at::kFloat);
      at::Tensor expected = at::empty({80}, at::kDouble);
      for (int64_t i = 0; i < 80; ++i) expected[i] = expectedRed(crop_left + i);
      if (flipped) expected = expected.flip({0});
      const at::Tensor red = example.pixels[0].to(at::kDouble);  // [48, 80]
      const double red_diff = maxAbs(red - expected.unsqueeze(0));
      // Blue in y, away from the top and bottom edges where the kernel is cut off.
      at::Tensor blue_expected = at::empty({48}, at::kDouble);
      for (int64_t j = 0; j < 48; ++j) blue_expected[j] = 4.0 * ((double(j) + 0.5) / 0.75 - 0.5) / 127.5 - 1.0;
      const double blue_diff = maxAbs((example.pixels[2].to(at::kDouble) - blue_expected.unsqueeze(1)).narrow(0, 4, 40));
      const double green_diff = maxAbs(example.pixels[1].to(at::kDouble) - (100 / 127.5 - 1));
      qInfo("crop %lld%s: max diff red %.2e, blue %.2e, green %.2e", (long long)crop_left, flipped ? " flipped" : "", red_diff,
            blue_diff, green_diff);
      // float32 kernels leave ~3e-4; a crop one pixel off would be 2 / 127.5 = 1.6e-2 away.
      QVERIFY(red_diff < 1e-3 && blue_diff < 1e-3 && green_diff < 1e-3);
      QVERIFY(example.mask.defined());
      QCOMPARE(example.mask.sizes().vec(), (std::vector<int64_t>{1, 48, 80}));
      const double mask_diff = maxAbs(example.mask[0].to(at::kDouble) * 2 - 1 - red);  // the mask repeats the red ramp
      qInfo("mask max diff %.2e", mask_diff);
      QVERIFY(mask_diff < 1e-3);
    };
    checkRamp(loadExample(item, options, centre), 8, false);
    QCOMPARE(loadMask(item, options, centre).sizes().vec(), (std::vector<int64_t>{1, 48, 80}));

    options.random_crop = true;
    options.flip = true;
    std::set<int64_t> lefts;
    int flips = 0;
    for (int i = 0; i < 60; ++i) {
      const Augmentation random = drawAugmentation(item, options, rng);
      QVERIFY(random.crop_left >= 0 && random.crop_left <= 16 && random.crop_top == 0);
      lefts.insert(random.crop_left);
      flips += random.flip;
    }
    qInfo("60 random crops: %zu distinct offsets, %d flips", lefts.size(), flips);
    QVERIFY(lefts.size() >= 8 && flips > 10 && flips < 50);

    Augmentation shifted;
    shifted.crop_left = 3;
    checkRamp(loadExample(item, options, shifted), 3, false);
    Augmentation flipped = shifted;
    flipped.flip = true;
    const Example mirrored = loadExample(item, options, flipped);
    checkRamp(mirrored, 3, true);
    QCOMPARE(mirrored.crop_left, int64_t(96 - 80 - 3));  // measured in the image the model sees
    QVERIFY(at::equal(mirrored.pixels, loadExample(item, options, shifted).pixels.flip({2})));
    QCOMPARE(shifted.key(), std::string("x3_y0_f0"));
    QCOMPARE(flipped.key(), std::string("x3_y0_f1"));

    Augmentation outside;
    outside.crop_left = 17;
    GESSO_EXPECT_ERROR(loadExample(item, options, outside), ErrorCode::InvalidArgument, "outside the resized image");
    // The file changed after the scan: named, not silently used.
    writeRgb(root + "/ramp.png", 64, 64, flatGrey);
    GESSO_EXPECT_ERROR(loadExample(item, options, centre), ErrorCode::InvalidFormat, "rescan");
  }

  void alphaIsCompositedOnTheBackground() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    std::vector<uint8_t> rgba;
    for (int i = 0; i < 64 * 64; ++i) rgba.insert(rgba.end(), {200, 100, 50, 128});
    writeImage(root + "/alpha.png", 64, 64, 4, rgba.data());
    DatasetOptions options = smallOptions(root);
    options.background = {0, 0, 255};
    const DatasetScan scan = scanDataset(options);
    std::mt19937_64 rng(0);
    const Example example = loadExample(scan.items[0], options, drawAugmentation(scan.items[0], options, rng));
    const double alpha = 128.0 / 255.0;
    const double expected[3] = {200 * alpha, 100 * alpha, 50 * alpha + 255 * (1 - alpha)};
    double worst = 0;
    for (int c = 0; c < 3; ++c) worst = std::max(worst, maxAbs((example.pixels[c].to(at::kDouble) + 1) * 127.5 - expected[c]));
    qInfo("composited colour max diff %.3f (of 255)", worst);
    QVERIFY(worst <= 1.0);
    QVERIFY(!example.mask.defined());
    QVERIFY(scan.items[0].preprocessing.find("bg=0,0,255") != std::string::npos);  // part of the latent cache key
  }

  void scanMemorySkipsUnchangedImages() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    writeRgb(root + "/data/a.png", 64, 48, flatGrey);
    writeBytes(root + "/data/a.txt", "first caption");
    writeRgb(root + "/data/b.png", 48, 64, flatGrey);
    writeRgb(root + "/data/c.png", 40, 40, flatGrey);
    writeRgb(root + "/data/c.mask.png", 40, 40, flatGrey);
    DatasetOptions options = smallOptions(root + "/data");
    options.scan_memory_file = root + "/cache/scan.json";
    const DatasetScan first = scanDataset(options);
    QCOMPARE(first.images_decoded, int64_t(3));
    QVERIFY(fs::exists(options.scan_memory_file));

    writeBytes(root + "/data/a.txt", "second caption");  // captions are always read again
    const DatasetScan second = scanDataset(options);
    QCOMPARE(second.images_decoded, int64_t(0));
    QCOMPARE(second.items.size(), size_t(3));
    for (size_t i = 0; i < 3; ++i) {
      QCOMPARE(second.items[i].image_path, first.items[i].image_path);
      QCOMPARE(second.items[i].content_hash, first.items[i].content_hash);
      QCOMPARE(second.items[i].mask_hash, first.items[i].mask_hash);
      QCOMPARE(second.items[i].mask_path, first.items[i].mask_path);
      QCOMPARE(second.items[i].width, first.items[i].width);
      QCOMPARE(second.items[i].height, first.items[i].height);
      QCOMPARE(second.items[i].bucket_width, first.items[i].bucket_width);
      QCOMPARE(second.items[i].preprocessing, first.items[i].preprocessing);
    }
    QCOMPARE(second.items[0].caption, std::string("second caption"));

    // b.png replaced by garbage of the same size with its old modification time: remembered, so not decoded (this is
    // the proof that the memory is used; a scan without it refuses the file).
    const std::string b = root + "/data/b.png";
    const auto modified = fs::last_write_time(b);
    writeBytes(b, std::string(fs::file_size(b), 'x'));
    fs::last_write_time(b, modified);
    QCOMPARE(scanDataset(options).images_decoded, int64_t(0));
    DatasetOptions forgetful = options;
    forgetful.scan_memory_file.clear();
    QCOMPARE(scanDataset(forgetful).skipped.size(), size_t(1));
    // A newer modification time: decoded again, and now refused.
    fs::last_write_time(b, modified + std::chrono::seconds(1));
    const DatasetScan touched = scanDataset(options);
    QCOMPARE(touched.images_decoded, int64_t(1));
    QCOMPARE(touched.skipped.size(), size_t(1));
    QCOMPARE(touched.skipped[0].path, b);
    // A mask that changes is noticed too.
    writeRgb(root + "/data/c.mask.png", 40, 40, [](int, int) { return std::array<int, 3>{0, 0, 0}; });
    const DatasetScan masked = scanDataset(options);
    QCOMPARE(masked.images_decoded, int64_t(2));  // c (its mask changed) and the still-broken b
    QVERIFY(masked.items[1].mask_hash != first.items[2].mask_hash);
    // A damaged memory file only costs time.
    writeBytes(options.scan_memory_file, "{not json");
    const DatasetScan damaged = scanDataset(options);
    QCOMPARE(damaged.images_decoded, int64_t(3));
    QCOMPARE(damaged.items.size(), size_t(2));
  }

  void anImageOfTheBucketSizeIsUntouched() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    writeRgb(root + "/exact.png", 64, 64, [](int x, int y) { return std::array<int, 3>{(x * 37 + y) % 256, (y * 91) % 256, (x * y) % 256}; });
    const DatasetOptions options = smallOptions(root);
    const DatasetScan scan = scanDataset(options);
    std::mt19937_64 rng(0);
    const Example example = loadExample(scan.items[0], options, drawAugmentation(scan.items[0], options, rng));
    const at::Tensor reference = gesso::image::imageToTensor(gesso::image::readImage(root + "/exact.png"))[0];
    QVERIFY(at::equal(example.pixels, reference));  // bit for bit: no resampling, the same float arithmetic
  }

  void shrinkingIsAntialiased() {
    QTemporaryDir dir;
    const std::string root = dir.path().toStdString();
    // A one-pixel checkerboard shrunk 3×: antialiased resampling averages it to grey; point sampling would keep
    // black and white (each output pixel centre falls exactly on one source pixel).
    writeRgb(root + "/checker.png", 192, 192, [](int x, int y) {
      const int v = (x + y) % 2 ? 255 : 0;
      return std::array<int, 3>{v, v, v};
    });
    DatasetOptions options = smallOptions(root);
    options.buckets = false;
    const DatasetScan scan = scanDataset(options);
    std::mt19937_64 rng(0);
    const Example example = loadExample(scan.items[0], options, drawAugmentation(scan.items[0], options, rng));
    QCOMPARE(example.pixels.sizes().vec(), (std::vector<int64_t>{3, 64, 64}));
    const double interior = maxAbs((example.pixels.narrow(1, 2, 60).narrow(2, 2, 60) + 1) * 127.5 - 127.5);
    qInfo("shrunk checkerboard: max distance from mid-grey %.2f (of 255) inside the border", interior);
    QVERIFY(interior < 8);
  }
#endif
};

QTEST_GUILESS_MAIN(TrainingDataTest)
#include "test_training_data.moc"
