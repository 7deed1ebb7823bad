// Generation metadata: AUTOMATIC1111 infotext formatting and parsing (data-driven, with real-looking A1111 text),
// the sampler name table, PNG text chunks (written, scanned raw, read back by OpenImageIO) and atomic PNG writing.
#include "gesso/image/a1111_names.h"
#include "gesso/image/generation_parameters.h"
#include "gesso/image/png_metadata.h"
#include "gesso/image/png_text.h"

#include "gesso/error.h"
#include "expect_error.h"

#include <QTemporaryDir>
#include <QtTest>

#ifdef GESSO_WITH_IMAGE_IO
#include "gesso/image/image_io.h"

#include <OpenImageIO/imageio.h>
#endif

#include <zlib.h>

#include <filesystem>
#include <fstream>

using gesso::ErrorCode;
using gesso::GessoError;
using namespace gesso::image;

Q_DECLARE_METATYPE(GenerationParameters)

namespace {

QString show(const std::optional<double>& value) { return value ? QString::number(*value, 'g', 17) : QString("none"); }
QString show(const std::optional<int64_t>& value) { return value ? QString::number(*value) : QString("none"); }
QString show(const std::optional<std::string>& value) { return value ? QString::fromStdString(*value) : QString("none"); }

// Field-by-field comparison so that a failure names the field.
void compareParameters(const GenerationParameters& actual, const GenerationParameters& expected) {
  QCOMPARE(QString::fromStdString(actual.prompt), QString::fromStdString(expected.prompt));
  QCOMPARE(QString::fromStdString(actual.negative_prompt), QString::fromStdString(expected.negative_prompt));
  QCOMPARE(actual.steps, expected.steps);
  QCOMPARE(QString::fromStdString(actual.sampler), QString::fromStdString(expected.sampler));
  QCOMPARE(QString::fromStdString(actual.scheduler), QString::fromStdString(expected.scheduler));
  QCOMPARE(actual.cfg_scale, expected.cfg_scale);
  QCOMPARE(actual.seed, expected.seed);
  QCOMPARE(actual.width, expected.width);
  QCOMPARE(actual.height, expected.height);
  QCOMPARE(QString::fromStdString(actual.model_hash), QString::fromStdString(expected.model_hash));
  QCOMPARE(QString::fromStdString(actual.model), QString::fromStdString(expected.model));
  QCOMPARE(show(actual.denoising_strength), show(expected.denoising_strength));
  QCOMPARE(show(actual.clip_skip), show(expected.clip_skip));
  QCOMPARE(show(actual.hires_scale), show(expected.hires_scale));
  QCOMPARE(show(actual.hires_width), show(expected.hires_width));
  QCOMPARE(show(actual.hires_height), show(expected.hires_height));
  QCOMPARE(show(actual.hires_steps), show(expected.hires_steps));
  QCOMPARE(show(actual.hires_upscaler), show(expected.hires_upscaler));
  QStringList actual_extra, expected_extra;
  for (const auto& [key, value] : actual.extra) actual_extra << QString::fromStdString(key + " = " + value);
  for (const auto& [key, value] : expected.extra) expected_extra << QString::fromStdString(key + " = " + value);
  QCOMPARE(actual_extra, expected_extra);
  QVERIFY(actual == expected);
}

GenerationParameters basic() {
  GenerationParameters p;
  p.prompt = "masterpiece, best quality, a lighthouse at dusk";
  p.negative_prompt = "lowres, bad anatomy";
  p.steps = 20;
  p.sampler = "dpmpp_2m";
  p.scheduler = "karras";
  p.cfg_scale = 7;
  p.seed = 1234;
  p.width = 512;
  p.height = 768;
  p.model_hash = "abc123";
  p.model = "name";
  return p;
}

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

uint32_t bigEndianAt(const std::string& bytes, size_t offset) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

std::string bigEndian(uint32_t value) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
  return out;
}

struct RawChunk {
  std::string type;
  std::string data;
};

// An independent chunk walker for the tests: checks every CRC with zlib directly.
std::vector<RawChunk> rawChunks(const std::string& png) {
  std::vector<RawChunk> chunks;
  if (png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) return chunks;
  size_t offset = 8;
  while (offset + 12 <= png.size()) {
    const uint32_t length = bigEndianAt(png, offset);
    RawChunk chunk{png.substr(offset + 4, 4), png.substr(offset + 8, length)};
    const std::string covered = png.substr(offset + 4, 4 + length);
    const uLong crc = crc32(crc32(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(covered.data()), static_cast<uInt>(covered.size()));
    if (crc != bigEndianAt(png, offset + 8 + length)) chunk.type = "BAD-CRC:" + chunk.type;
    chunks.push_back(chunk);
    offset += 12 + length;
  }
  return chunks;
}

std::string chunk(const std::string& type, const std::string& data) {
  const std::string covered = type + data;
  const uLong crc = crc32(crc32(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(covered.data()), static_cast<uInt>(covered.size()));
  return bigEndian(static_cast<uint32_t>(data.size())) + covered + bigEndian(static_cast<uint32_t>(crc));
}

std::string zlibCompress(const std::string& text) {
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::string out(size, '\0');
  compress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()));
  out.resize(size);
  return out;
}

// A minimal valid 1×1 grey PNG with the given chunks between IHDR and IDAT.
std::string tinyPng(const std::string& middle) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png += chunk("IHDR", bigEndian(1) + bigEndian(1) + std::string("\x08\x00\x00\x00\x00", 5));
  png += middle;
  png += chunk("IDAT", zlibCompress(std::string("\x00\x80", 2)));
  png += chunk("IEND", "");
  return png;
}

std::vector<std::string> folderEntries(const QTemporaryDir& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path().toStdString())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

class PngParametersTest : public QObject {
  Q_OBJECT

 private slots:
  void roundTrips_data() {
    QTest::addColumn<GenerationParameters>("parameters");
    QTest::newRow("basic") << basic();
    GenerationParameters p = basic();
    p.negative_prompt.clear();
    p.cfg_scale = 7.5;
    p.seed = 4294967295;
    p.sampler = "euler_ancestral";
    p.scheduler = "normal";
    QTest::newRow("no negative, big seed") << p;
    p = basic();
    p.prompt = "line one, (red:1.2)\nline two: with a colon\n\nafter a blank line";
    p.negative_prompt = "first\nsecond, \"quoted\"";
    QTest::newRow("multi-line prompts") << p;
    p = basic();
    p.denoising_strength = 0.45;
    p.clip_skip = 2;
    p.hires_scale = 1.5;
    p.hires_steps = 12;
    p.hires_upscaler = "R-ESRGAN 4x+ Anime6B";
    p.extra = {{"Lora hashes", "add_detail: 7c6bad76eb54, more_details: 3b8aa1d351ef"},
               {"TI hashes", "easynegative: c74b4e810b03"},
               {"Version", "v1.10.1"},
               {"Hires prompt", "a \"quoted\" word, and a backslash \\"},
               {"Empty", ""},
               {"Padded", "  spaces around  "},
               {"Starts quoted", "\"x\" tail"},
               {"Unicode", "café, 猫"}};
    QTest::newRow("hires, extras, quoting") << p;
    p = basic();
    p.hires_width = 1024;
    p.hires_height = 1536;
    p.hires_upscaler = "Latent";
    p.model = "sd_xl_base_1.0";
    p.sampler = "Restart";  // an A1111 sampler Gesso does not know keeps its name
    p.scheduler = "sgm_uniform";
    QTest::newRow("hires resize, unknown sampler") << p;
    p = basic();
    p.prompt.clear();
    p.sampler = "ddim";
    p.scheduler = "ddim_uniform";
    p.cfg_scale = 0.1 + 0.2;  // needs all 17 digits
    QTest::newRow("empty prompt, ddim") << p;
  }
  void roundTrips() {
    QFETCH(GenerationParameters, parameters);
    const std::string text = formatA1111Parameters(parameters);
    qInfo("%s", text.c_str());
    compareParameters(parseA1111Parameters(text), parameters);
  }

  void formatsLikeA1111() {
    GenerationParameters p = basic();
    p.denoising_strength = 0.5;
    p.extra["Lora hashes"] = "detail: abc, x: y";
    QCOMPARE(QString::fromStdString(formatA1111Parameters(p)),
             QString("masterpiece, best quality, a lighthouse at dusk\nNegative prompt: lowres, bad anatomy\n"
                     "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, "
                     "Model hash: abc123, Model: name, Denoising strength: 0.5, Lora hashes: \"detail: abc, x: y\""));
  }

  void parsesA1111Text_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<GenerationParameters>("expected");

    GenerationParameters p = basic();
    p.denoising_strength = 0.5;
    p.extra["Version"] = "v1.10.1";
    QTest::newRow("1.10 txt2img")
        << "masterpiece, best quality, a lighthouse at dusk\nNegative prompt: lowres, bad anatomy\nSteps: 20, Sampler: DPM++ 2M, "
           "Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x768, Model hash: abc123, Model: name, Denoising strength: 0.5, "
           "Version: v1.10.1"
        << p;

    p = GenerationParameters();
    p.prompt = "a photograph of an astronaut riding a horse";
    p.steps = 30;
    p.sampler = "dpmpp_2m";
    p.scheduler = "karras";
    p.cfg_scale = 7.5;
    p.seed = 3141592653;
    p.width = 768;
    p.height = 512;
    p.model_hash = "6ce0161689";
    p.model = "v1-5-pruned-emaonly";
    QTest::newRow("pre-1.9 Karras in the sampler name")
        << "a photograph of an astronaut riding a horse\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 3141592653, "
           "Size: 768x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly"
        << p;

    p = GenerationParameters();
    p.prompt = "1girl, solo, (detailed eyes:1.2),\n<lora:add_detail:0.6>\nsunset";
    p.negative_prompt = "easynegative, (worst quality:1.4),\nwatermark";
    p.steps = 28;
    p.sampler = "euler_ancestral";
    p.scheduler = "normal";
    p.cfg_scale = 6;
    p.seed = 987654321;
    p.width = 512;
    p.height = 512;
    p.model_hash = "7f96a1a9ca";
    p.model = "anything-v5";
    p.denoising_strength = 0.55;
    p.clip_skip = 2;
    p.hires_scale = 2;
    p.hires_steps = 15;
    p.hires_upscaler = "R-ESRGAN 4x+ Anime6B";
    p.extra = {{"Lora hashes", "add_detail: 7c6bad76eb54"},
               {"TI hashes", "easynegative: c74b4e810b03, bad-hands-5: aa7651be154c"},
               {"ENSD", "31337"},
               {"Hires prompt", "a \"quoted\" word, and more"},
               {"Version", "v1.6.0"}};
    QTest::newRow("multi-line, hires, quoted values")
        << "  1girl, solo, (detailed eyes:1.2),\n<lora:add_detail:0.6>  \nsunset\nNegative prompt: easynegative, (worst quality:1.4),\n"
           "watermark\nSteps: 28, Sampler: Euler a, CFG scale: 6, Seed: 987654321, Size: 512x512, Model hash: 7f96a1a9ca, "
           "Model: anything-v5, Denoising strength: 0.55, Clip skip: 2, ENSD: 31337, Hires upscale: 2, Hires steps: 15, "
           "Hires upscaler: R-ESRGAN 4x+ Anime6B, Hires prompt: \"a \\\"quoted\\\" word, and more\", "
           "Lora hashes: \"add_detail: 7c6bad76eb54\", TI hashes: \"easynegative: c74b4e810b03, bad-hands-5: aa7651be154c\", "
           "Version: v1.6.0\n"
        << p;

    p = GenerationParameters();
    p.prompt = "castle";
    p.sampler = "dpmpp_2m_sde";
    p.scheduler = "exponential";
    p.seed = 5;
    QTest::newRow("Automatic means the sampler's default")
        << "castle\nSteps: 20, Sampler: DPM++ 2M SDE, Schedule type: Automatic, CFG scale: 7, Seed: 5, Size: 512x512" << p;

    p.sampler = "dpmpp_2m_sde";
    p.scheduler = "karras";
    QTest::newRow("old SDE Karras") << "castle\nSteps: 20, Sampler: DPM++ 2M SDE Karras, CFG scale: 7, Seed: 5, Size: 512x512" << p;

    p.sampler = "dpm_2_ancestral";
    p.scheduler = "normal";
    QTest::newRow("no schedule type before 1.9") << "castle\nSteps: 20, Sampler: DPM2 a, CFG scale: 7, Seed: 5, Size: 512x512" << p;

    p.sampler = "euler";
    p.scheduler = "sgm_uniform";
    QTest::newRow("SGM Uniform") << "castle\nSteps: 20, Sampler: Euler, Schedule type: SGM Uniform, CFG scale: 7, Seed: 5, Size: 512x512" << p;

    p = GenerationParameters();
    p.prompt = "just a prompt\nSteps: 20, Seed: 3";  // fewer than three pairs: not a parameter line
    QTest::newRow("prompt only") << "just a prompt\nSteps: 20, Seed: 3" << p;

    p = GenerationParameters();
    p.negative_prompt = "blurry";
    p.steps = 12;
    p.width = 640;
    p.height = 480;
    p.extra["Size"] = "big";
    p.extra["Steps"] = "many";
    QTest::newRow("empty prompt, odd values")
        << "Negative prompt: blurry\nSteps: 12, Steps: many, Size: 640x480, Size: big, CFG scale: , Seed: " << p;
  }
  void parsesA1111Text() {
    QFETCH(QString, text);
    QFETCH(GenerationParameters, expected);
    compareParameters(parseA1111Parameters(text.toStdString()), expected);
  }

  void samplerNames_data() {
    QTest::addColumn<QString>("a1111_sampler");
    QTest::addColumn<QString>("schedule");  // "-" for absent
    QTest::addColumn<QString>("sampler");
    QTest::addColumn<QString>("scheduler");
    QTest::newRow("DPM++ 2M + Karras") << "DPM++ 2M" << "Karras" << "dpmpp_2m" << "karras";
    QTest::newRow("DPM++ 2M Karras") << "DPM++ 2M Karras" << "-" << "dpmpp_2m" << "karras";
    QTest::newRow("suffix wins") << "DPM++ 2M Karras" << "Exponential" << "dpmpp_2m" << "karras";
    QTest::newRow("DPM++ SDE Automatic") << "DPM++ SDE" << "Automatic" << "dpmpp_sde" << "karras";
    QTest::newRow("DPM++ 3M SDE Exponential") << "DPM++ 3M SDE Exponential" << "-" << "dpmpp_3m_sde" << "exponential";
    QTest::newRow("Euler a Uniform") << "Euler a" << "Uniform" << "euler_ancestral" << "normal";
    QTest::newRow("DPM2 Karras") << "DPM2 Karras" << "-" << "dpm_2" << "karras";
    QTest::newRow("LMS Beta") << "LMS" << "Beta" << "lms" << "beta";
    QTest::newRow("DDIM") << "DDIM" << "-" << "ddim" << "ddim_uniform";
    QTest::newRow("DDIM Automatic") << "DDIM" << "Automatic" << "ddim" << "ddim_uniform";
    QTest::newRow("UniPC Align Your Steps") << "UniPC" << "Align Your Steps" << "uni_pc" << "align_your_steps";
    QTest::newRow("Heun SGMUniform alias") << "Heun" << "SGMUniform" << "heun" << "sgm_uniform";
    QTest::newRow("API alias") << "k_dpmpp_2s_a" << "-" << "dpmpp_2s_ancestral" << "normal";
    QTest::newRow("ComfyUI names") << "dpmpp_2m" << "kl_optimal" << "dpmpp_2m" << "kl_optimal";
    QTest::newRow("unknown kept") << "Restart" << "Simple" << "Restart" << "simple";
    QTest::newRow("unknown schedule kept") << "Euler" << "Turbo" << "euler" << "Turbo";
  }
  void samplerNames() {
    QFETCH(QString, a1111_sampler);
    QFETCH(QString, schedule);
    QFETCH(QString, sampler);
    QFETCH(QString, scheduler);
    const std::string schedule_text = schedule.toStdString();
    const SamplerChoice choice = samplerFromA1111(a1111_sampler.toStdString(), schedule == "-" ? nullptr : &schedule_text);
    QCOMPARE(QString::fromStdString(choice.sampler), sampler);
    QCOMPARE(QString::fromStdString(choice.scheduler), scheduler);
  }

  void displayNames() {
    QCOMPARE(QString::fromStdString(a1111SamplerName("dpmpp_2m")), QString("DPM++ 2M"));
    QCOMPARE(QString::fromStdString(a1111SamplerName("euler_ancestral")), QString("Euler a"));
    QCOMPARE(QString::fromStdString(a1111SamplerName("dpmpp_2s_ancestral")), QString("DPM++ 2S a"));
    QCOMPARE(QString::fromStdString(a1111SamplerName("no_such")), QString("no_such"));
    QCOMPARE(QString::fromStdString(a1111ScheduleName("normal")), QString("Normal"));
    QCOMPARE(QString::fromStdString(a1111ScheduleName("ddim_uniform")), QString("DDIM"));
    QCOMPARE(QString::fromStdString(a1111ScheduleName("sgm_uniform")), QString("SGM Uniform"));
  }

  void badExtraKeysAreRefused() {
    GenerationParameters p = basic();
    p.extra["bad:key"] = "x";
    GESSO_EXPECT_ERROR(formatA1111Parameters(p), ErrorCode::InvalidArgument, "bad:key");
    p.extra = {{"Steps", "30"}};
    GESSO_EXPECT_ERROR(formatA1111Parameters(p), ErrorCode::InvalidArgument, "named field");
    p.extra = {{"x", "1"}};
    GESSO_EXPECT_ERROR(formatA1111Parameters(p), ErrorCode::InvalidArgument, "\"x\"");
  }

  void hostileTextIsHandled() {
    // Long runs that defeat a backtracking regular expression must parse quickly and without throwing.
    QElapsedTimer timer;
    timer.start();
    const GenerationParameters words = parseA1111Parameters("p\n" + std::string(200000, 'a') + "," + std::string(200000, ' '));
    const GenerationParameters quotes = parseA1111Parameters("p\nKey: \"" + std::string(199999, '\\') + "\", Aa: 1, Bb: 2");
    const GenerationParameters junk = parseA1111Parameters(std::string("\0\xff\"::,,\n\n\"", 10));
    qInfo("parsed in %lld ms", static_cast<long long>(timer.elapsed()));
    QVERIFY(timer.elapsed() < 2000);
    QCOMPARE(quotes.extra.size(), size_t(3));  // "Key" could not be unquoted and is kept as written
    Q_UNUSED(words);
    Q_UNUSED(junk);
  }

  void randomDamageNeverCrashes() {
    // A quick fuzz: mutated PNG bytes and infotexts give a result or a GessoError, never a crash or another exception.
    GenerationParameters p = basic();
    p.extra["Lora hashes"] = "a: 1, b: 2";
    const std::string text = formatA1111Parameters(p);
    const std::string png = insertPngTextChunks(tinyPng(chunk("zTXt", std::string("z\0\0", 3) + zlibCompress("packed text"))),
                                                generationTextChunks(p, "{\"a\": [1, 2]}"));
    uint32_t state = 12345;
    const auto next = [&]() { return state = state * 1664525u + 1013904223u; };
    int errors = 0;
    for (int round = 0; round < 3000; ++round) {
      std::string damaged_png = png;
      std::string damaged_text = text;
      const int edits = 1 + static_cast<int>(next() % 4);
      for (int e = 0; e < edits; ++e) {
        damaged_png[next() % damaged_png.size()] = static_cast<char>(next() >> 24);
        damaged_text[next() % damaged_text.size()] = "\n,:\"\\ aZ"[next() % 10];
      }
      if (round % 7 == 0) damaged_png.resize(next() % damaged_png.size());
      try {
        parsePngGenerationMetadata(damaged_png);
      } catch (const GessoError&) {
        ++errors;
      }
      const GenerationParameters parsed = parseA1111Parameters(damaged_text);
      formatA1111Parameters(GenerationParameters{parsed.prompt, parsed.negative_prompt});  // the prompts can be written again
    }
    qInfo("%d of 3000 damaged PNGs refused with a clear error", errors);
    QVERIFY(errors > 0);
  }

  // ---- PNG text chunks ----

  void readsEveryTextChunkKind() {
    const std::string png = tinyPng(chunk("tEXt", std::string("parameters\0", 11) + "caf\xe9 latin-1") +
                                    chunk("tEXt", std::string("utf8\0", 5) + "caf\xc3\xa9") +
                                    chunk("zTXt", std::string("packed\0\0", 8) + zlibCompress("compressed, Latin-1 \xe0")) +
                                    chunk("iTXt", std::string("intl\0\0\0en\0Title\0", 16) + "\xe7\x8c\xab") +
                                    chunk("iTXt", std::string("intlz\0\1\0\0\0", 10) + zlibCompress("\xe7\x8c\xab packed")));
    const auto chunks = parsePngTextChunks(png);
    QCOMPARE(chunks.size(), size_t(5));
    QCOMPARE(QString::fromStdString(chunks[0].text), QString::fromUtf8("café latin-1"));
    QCOMPARE(QString::fromStdString(chunks[1].text), QString::fromUtf8("café"));
    QCOMPARE(QString::fromStdString(chunks[2].text), QString::fromUtf8("compressed, Latin-1 à"));
    QCOMPARE(QString::fromStdString(chunks[3].keyword), QString("intl"));
    QCOMPARE(QString::fromStdString(chunks[3].text), QString::fromUtf8("猫"));
    QCOMPARE(QString::fromStdString(chunks[4].text), QString::fromUtf8("猫 packed"));
    QVERIFY(findTextChunk(chunks, "zzz") == nullptr);
    QCOMPARE(findTextChunk(chunks, "packed")->keyword, std::string("packed"));
  }

  void damagedChunksAreRefused() {
    std::string png = tinyPng(chunk("tEXt", std::string("parameters\0", 11) + "hello"));
    std::string bad_crc = png;
    bad_crc[8 + 25 + 8 + 12] ^= 1;  // a byte inside the tEXt data
    GESSO_EXPECT_ERROR(parsePngTextChunks(bad_crc), ErrorCode::InvalidFormat, "CRC");
    GESSO_EXPECT_ERROR(parsePngTextChunks(png.substr(0, png.size() - 20)), ErrorCode::InvalidFormat, "truncated");
    GESSO_EXPECT_ERROR(parsePngTextChunks("\xff\xd8\xff\xe0 not a png"), ErrorCode::InvalidFormat, "not a PNG");
    GESSO_EXPECT_ERROR(parsePngTextChunks(tinyPng(chunk("tEXt", "no separator"))), ErrorCode::InvalidFormat, "NUL");
    GESSO_EXPECT_ERROR(parsePngTextChunks(tinyPng(chunk("tEXt", std::string(80, 'k') + '\0'))), ErrorCode::InvalidFormat, "1-79");
    GESSO_EXPECT_ERROR(parsePngTextChunks(tinyPng(chunk("zTXt", std::string("k\0\0", 3) + "not zlib"))), ErrorCode::InvalidFormat, "corrupt");
    // A small compressed chunk that would expand past the limit.
    const std::string bomb = zlibCompress(std::string(kMaxTextChunkBytes + 1000, 'a'));
    QVERIFY(bomb.size() < 100000);
    GESSO_EXPECT_ERROR(parsePngTextChunks(tinyPng(chunk("zTXt", std::string("k\0\0", 3) + bomb))), ErrorCode::InvalidFormat, "expands");
    std::string huge_length = png;
    huge_length[8 + 25] = '\x7f';  // the tEXt length's first byte
    GESSO_EXPECT_ERROR(parsePngTextChunks(huge_length), ErrorCode::InvalidFormat, "tEXt");
  }

  void insertsChunksBeforeImageData() {
    const std::string original = tinyPng(chunk("tEXt", std::string("parameters\0", 11) + "old") + chunk("tEXt", std::string("other\0", 6) + "kept"));
    const std::string png = insertPngTextChunks(original, {{"parameters", "new, ascii"}, {"gesso", "{\"prompt\": \"猫\"}"}});
    const auto raw = rawChunks(png);
    QStringList types;
    for (const RawChunk& c : raw) types << QString::fromStdString(c.type);
    QCOMPARE(types, QStringList({"IHDR", "tEXt", "tEXt", "iTXt", "IDAT", "IEND"}));  // the old "parameters" is replaced
    QCOMPARE(raw[1].data, std::string("other\0kept", 10));
    QCOMPARE(raw[2].data, std::string("parameters\0new, ascii", 21));
    QCOMPARE(raw[3].data, std::string("gesso\0\0\0\0\0", 10) + "{\"prompt\": \"猫\"}");
    GESSO_EXPECT_ERROR(insertPngTextChunks(original, {{"", "x"}}), ErrorCode::InvalidArgument, "keyword");
    GESSO_EXPECT_ERROR(insertPngTextChunks(original, {{"k", std::string("a\0b", 3)}}), ErrorCode::InvalidArgument, "NUL");
    GESSO_EXPECT_ERROR(insertPngTextChunks(original, {{"k", "\xff\xfe"}}), ErrorCode::InvalidArgument, "UTF-8");
  }

  void metadataChunksFromBytes() {
    const std::string request = "{\"prompt\":\"a cat\",\"seed\":7}";
    GenerationParameters p = basic();
    p.prompt = "ünïcödé prompt, 猫";
    const std::string png = insertPngTextChunks(tinyPng(""), generationTextChunks(p, request));
    const PngGenerationMetadata metadata = parsePngGenerationMetadata(png);
    QVERIFY(metadata.request_json && metadata.parameters && metadata.parameters_text);
    QCOMPARE(*metadata.request_json, request);
    compareParameters(*metadata.parameters, p);
    const PngGenerationMetadata none = parsePngGenerationMetadata(tinyPng(""));
    QVERIFY(!none.request_json && !none.parameters && !none.parameters_text);
    GESSO_EXPECT_ERROR(generationTextChunks(p, "{not json"), ErrorCode::InvalidArgument, "not valid JSON");
    QCOMPARE(generationTextChunks(p, "").size(), size_t(1));
  }

#ifdef GESSO_WITH_IMAGE_IO
  void writesAndReadsPngFiles() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("gesso-00001.png").toStdString();
    Image image = makeImage(6, 4, 3);
    for (size_t i = 0; i < image.data.size(); ++i) image.data[i] = static_cast<uint8_t>(i * 7);
    GenerationParameters p = basic();
    p.denoising_strength = 0.5;
    const std::string request = "{\"prompt\":\"masterpiece\",\"steps\":20,\"note\":\"ünïcödé\"}";
    writePng(path, image, generationTextChunks(p, request));
    QCOMPARE(folderEntries(dir), std::vector<std::string>{"gesso-00001.png"});  // no temporary file left

    // Raw scan: parameters as tEXt, the non-ASCII JSON as iTXt, both before IDAT, every CRC right.
    const auto raw = rawChunks(readBytes(path));
    QStringList types;
    for (const RawChunk& c : raw) types << QString::fromStdString(c.type);
    qInfo("chunks: %s", qPrintable(types.join(' ')));
    QVERIFY(!types.join(' ').contains("BAD-CRC"));
    const int parameters_at = types.indexOf("tEXt");
    const int request_at = types.indexOf("iTXt");
    QVERIFY(parameters_at > 0 && request_at > 0 && parameters_at < types.indexOf("IDAT") && request_at < types.indexOf("IDAT"));
    QCOMPARE(raw[parameters_at].data, std::string("parameters\0", 11) + formatA1111Parameters(p));
    QCOMPARE(types.count("tEXt") + types.count("iTXt") + types.count("zTXt"), 2);

    // OpenImageIO (another reader) sees the same text and pixels.
    auto input = OIIO::ImageInput::open(path);
    QVERIFY(input);
    QCOMPARE(input->spec().get_string_attribute("parameters"), formatA1111Parameters(p));
    QCOMPARE(input->spec().get_string_attribute("gesso"), request);
    input.reset();
    QCOMPARE(readImage(path).data, image.data);

    const PngGenerationMetadata metadata = readPngGenerationMetadata(path);
    QVERIFY(metadata.request_json);
    QCOMPARE(*metadata.request_json, request);
    compareParameters(*metadata.parameters, p);
    QCOMPARE(readPngTextChunks(path).size(), size_t(2));

    GESSO_EXPECT_ERROR(readPngGenerationMetadata(dir.filePath("missing.png").toStdString()), ErrorCode::FileNotFound, "missing.png");
    const std::string jpeg = dir.filePath("photo.jpg").toStdString();
    std::ofstream(jpeg, std::ios::binary) << "\xff\xd8\xff\xe0 JFIF";
    GESSO_EXPECT_ERROR(readPngGenerationMetadata(jpeg), ErrorCode::InvalidFormat, "not a PNG");
  }

  void atomicWriteNeverClobbersOnFailure() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("result.png").toStdString();
    Image first = makeImage(3, 3, 3);
    first.data.assign(first.byteSize(), 10);
    writePng(path, first, {{"parameters", "first"}});
    const std::string before = readBytes(path);

    // Failures in the content happen before any file is touched.
    Image broken = first;
    broken.data.resize(5);
    GESSO_EXPECT_ERROR(writePng(path, broken), ErrorCode::InvalidArgument, "holds 5 bytes");
    GESSO_EXPECT_ERROR(writePng(path, first, {{"bad keyword ", "x"}}), ErrorCode::InvalidArgument, "keyword");
    QCOMPARE(readBytes(path), before);
    QCOMPARE(folderEntries(dir), std::vector<std::string>{"result.png"});

    // A failure at the rename (the target is a folder) removes the temporary file.
    const std::string folder_target = dir.filePath("occupied").toStdString();
    std::filesystem::create_directory(folder_target);
    std::ofstream(folder_target + "/inside") << "x";
    GESSO_EXPECT_ERROR(writePng(folder_target, first), ErrorCode::IoError, "occupied");
    QCOMPARE(folderEntries(dir), (std::vector<std::string>{"occupied", "result.png"}));
    GESSO_EXPECT_ERROR(writePng(dir.filePath("no/such/folder.png").toStdString(), first), ErrorCode::IoError, "folder.png");

    // A successful overwrite replaces the file completely.
    Image second = makeImage(2, 2, 4);
    second.data.assign(second.byteSize(), 200);
    writePng(path, second, {{"parameters", "second"}});
    QCOMPARE(folderEntries(dir), (std::vector<std::string>{"occupied", "result.png"}));
    QCOMPARE(readPngTextChunks(path)[0].text, std::string("second"));
    ReadOptions keep;
    keep.alpha = AlphaMode::Keep;
    QCOMPARE(readImage(path, keep).data, second.data);
  }
#endif
};

QTEST_GUILESS_MAIN(PngParametersTest)
#include "test_png_parameters.moc"
