// The generation pipeline end to end on tiny random checkpoints written by the test: txt2img, img2img, inpainting
// (latent blending and 9-channel models), hires fix, SDXL conditioning, seeds, callbacks, previews, cancellation,
// PNG metadata round trips; plus the request JSON, SHA-256 vectors and the img2img start index.
#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "gesso/image/png_metadata.h"
#include "gesso/models/model_config_files.h"
#include "gesso/pipeline/compare.h"
#include "gesso/pipeline/generate_request.h"
#include "gesso/pipeline/output.h"
#include "gesso/pipeline/pipeline.h"
#include "gesso/util/sha256.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>

using namespace gesso;
using gesso::pipeline::GenerateRequest;

namespace {

bool sameImages(const std::vector<pipeline::GeneratedImage>& a, const std::vector<pipeline::GeneratedImage>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].image.data != b[i].image.data || a[i].image.width != b[i].image.width) return false;
  }
  return true;
}

ErrorCode codeOf(const std::function<void()>& body) {
  try {
    body();
  } catch (const GessoError& error) {
    return error.error().code;
  }
  return ErrorCode::Internal;
}

}  // namespace

class PipelineTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string tokenizer_;
  std::string sd1_path_;
  std::shared_ptr<pipeline::LoadedModel> sd1_;

  GenerateRequest baseRequest() const {
    GenerateRequest request;
    request.model = sd1_path_;
    request.tokenizer = tokenizer_;
    request.prompt = "a (red:1.2) fox, BREAK snow";
    request.negative_prompt = "blurry";
    request.steps = 3;
    request.width = 64;
    request.height = 64;
    request.seed = 42;
    request.cfg_scale = 5.0;
    return request;
  }

  std::string writeImage(const std::string& name, uint8_t base) {
    image::Image img = image::makeImage(64, 64, 3);
    for (size_t i = 0; i < img.data.size(); ++i) img.data[i] = static_cast<uint8_t>(base + (i * 7) % 97);
    const std::string path = dir_.filePath(QString::fromStdString(name)).toStdString();
    image::writePng(path, img);
    return path;
  }

  std::string writeMask() {
    image::Image mask = image::makeImage(64, 64, 3);
    for (int64_t y = 0; y < 64; ++y)
      for (int64_t x = 0; x < 64; ++x)
        for (int c = 0; c < 3; ++c) mask.pixel(x, y)[c] = x >= 32 ? 255 : 0;  // repaint the right half
    const std::string path = dir_.filePath("mask.png").toStdString();
    image::writePng(path, mask);
    return path;
  }

 private slots:
  void initTestCase() {
    tokenizer_ = test::sharedTokenizerPath();
    if (tokenizer_.empty()) return;
    sd1_path_ = dir_.filePath("tiny_sd1.safetensors").toStdString();
    test::writeTinyCheckpoint(sd1_path_, test::tinySd1Config());
    sd1_ = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(baseRequest()));
  }

  void sha256Vectors() {
    QCOMPARE(QString::fromStdString(util::sha256Hex("")),
             QString("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(QString::fromStdString(util::sha256Hex("abc")),
             QString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    QCOMPARE(QString::fromStdString(util::sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
             QString("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    QCOMPARE(QString::fromStdString(util::sha256Hex(std::string(1000000, 'a'))),
             QString("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  }

  void requestJsonRoundTrips() {
    GenerateRequest request;
    request.model = "/m/model.safetensors";
    request.prompt = "a \"quoted\" prompt\nwith lines, and: colons";
    request.negative_prompt = "ünïcode";
    request.sampler = "dpmpp_2m_sde";
    request.scheduler = "karras";
    request.cfg_scale = 0.1 + 0.2;  // not representable in few digits
    request.cfg_rescale = 1.0 / 3.0;
    request.seed = 4294967295LL * 3;
    request.eta = 0.7;
    request.strength = 0.123456789012345678;
    request.hires_scale = 1.5;
    request.zero_terminal_snr = true;
    request.original_width = 1024;
    request.crop_top = 16;
    const GenerateRequest back = pipeline::requestFromJson(pipeline::requestToJson(request));
    QVERIFY(back == request);
    QVERIFY(pipeline::requestFromJson(pipeline::requestToJson(GenerateRequest{}, 2)) == GenerateRequest{});
    GenerateRequest no_eta = request;
    no_eta.eta.reset();
    QVERIFY(pipeline::requestFromJson(pipeline::requestToJson(no_eta)) == no_eta);
    QVERIFY(!(no_eta == request));
    QCOMPARE(codeOf([] { pipeline::requestFromJson(R"({"stepz": 3})"); }), ErrorCode::InvalidArgument);
    QCOMPARE(codeOf([] { pipeline::requestFromJson(R"({"steps": "3"})"); }), ErrorCode::InvalidArgument);
    QCOMPARE(codeOf([] { pipeline::requestFromJson("[1]"); }), ErrorCode::InvalidArgument);
    GenerateRequest bad = request;
    bad.width = 65;
    QCOMPARE(codeOf([&] { pipeline::validateRequest(bad); }), ErrorCode::InvalidArgument);
    bad = request;
    bad.sampler = "nope";
    QCOMPARE(codeOf([&] { pipeline::validateRequest(bad); }), ErrorCode::InvalidArgument);
  }

  void img2imgStartIndexFollowsA1111() {
    // t_enc = int(min(strength, 0.999)·steps); the schedule for `steps` is entered at steps - t_enc - 1.
    QCOMPARE(pipeline::img2imgStartIndex(20, 0.75), 4);
    QCOMPARE(pipeline::img2imgStartIndex(20, 1.0), 0);
    QCOMPARE(pipeline::img2imgStartIndex(20, 0.5), 9);
    QCOMPARE(pipeline::img2imgStartIndex(10, 0.0), 9);
  }

  void initialNoiseIsLibTorchRandn() {
    const std::vector<int64_t> shape{2, 4, 8, 8};
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(12345);
    QVERIFY(at::equal(pipeline::initialNoise(12345, shape), at::randn(shape, generator)));
    QVERIFY(!at::equal(pipeline::initialNoise(12345, shape), pipeline::initialNoise(12346, shape)));
    // torch.randn([2, 4, 4, 4], generator=torch.Generator().manual_seed(800)), recorded by the sampler goldens.
    if (!test::sharedDir().empty() && QFile::exists(QString::fromStdString(test::goldenPath("samplers.safetensors")))) {
      const auto golden = test::openGolden("samplers.safetensors");
      GESSO_COMPARE_TENSORS("noise seed 800", pipeline::initialNoise(800, {2, 4, 4, 4}),
                            test::goldenTensor(*golden, "init/noise0"), 0.0, 0.0);
    }
  }

  void latentPreviewIsLinear() {
    const at::Tensor zero = at::zeros({1, 4, 2, 2});
    QVERIFY(at::equal(pipeline::latentPreview(zero, ModelFamily::SD1), at::zeros({1, 3, 2, 2})));
    const at::Tensor xl = pipeline::latentPreview(zero, ModelFamily::SDXL);
    QVERIFY(std::abs(xl[0][0][0][0].item<double>() - 0.1084) < 1e-6);  // SDXL's bias
    at::Tensor one = at::zeros({1, 4, 1, 1});
    one[0][0] = 1.0;
    QVERIFY(std::abs(pipeline::latentPreview(one, ModelFamily::SD1)[0][1][0][0].item<double>() - 0.2297) < 1e-6);
    QCOMPARE(int(pipeline::latentPreviewImages(at::zeros({2, 4, 8, 8}), ModelFamily::SD1).size()), 2);
  }

  void tokenizerSearchNamesEveryPlace() {
    const char* old_env = std::getenv("GESSO_TOKENIZER");
    const std::string saved = old_env ? old_env : "";
    const QByteArray old_xdg = qgetenv("XDG_DATA_HOME");
    qunsetenv("GESSO_TOKENIZER");
    qputenv("XDG_DATA_HOME", dir_.filePath("nowhere").toUtf8());
    QString message;
    try {
      pipeline::findTokenizer("", dir_.path().toStdString());
    } catch (const GessoError& error) {
      message = QString::fromStdString(error.error().detail);
      QCOMPARE(error.error().code, ErrorCode::FileNotFound);
    }
    if (!saved.empty()) qputenv("GESSO_TOKENIZER", saved.c_str());
    qputenv("XDG_DATA_HOME", old_xdg);
    if (QFile::exists("/usr/share/gesso/clip/bpe_simple_vocab_16e6.txt.gz") ||
        QFile::exists("/usr/local/share/gesso/clip/bpe_simple_vocab_16e6.txt.gz")) {
      QSKIP("a tokenizer is installed system-wide");
    }
    QVERIFY2(message.contains("nowhere/gesso/clip/bpe_simple_vocab_16e6.txt.gz") && message.contains("/usr/share/gesso") &&
                 message.contains("GESSO_TOKENIZER") && message.contains("tokenizer/"),
             qPrintable(message));
    QCOMPARE(codeOf([] { pipeline::findTokenizer("/no/such/vocab.gz", ""); }), ErrorCode::FileNotFound);
  }

  void tinyConfigResolves() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    QCOMPARE(QString::fromStdString(unetConfigToJson(canonicalUNet(sd1_->config().unet))),
             QString::fromStdString(unetConfigToJson(canonicalUNet(test::tinySd1Config().unet))));
    QCOMPARE(sd1_->config().text_encoders.size(), size_t(1));
    QCOMPARE(sd1_->config().text_encoders[0].width, 64);
  }

  void txt2imgIsDeterministic() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    GenerateRequest request = baseRequest();
    request.batch_size = 2;
    request.batch_count = 2;
    request.preview_every = 2;
    int steps = 0;
    int previews = 0;
    pipeline::GenerateCallbacks callbacks;
    callbacks.on_step = [&](const pipeline::StepEvent& event) {
      QCOMPARE(event.total_steps, 3);
      QCOMPARE(event.x.size(0), int64_t(2));
      QVERIFY(event.denoised.defined());
      ++steps;
    };
    callbacks.on_preview = [&](const pipeline::PreviewEvent& event) {
      QCOMPARE(int(event.images.size()), 2);
      QCOMPARE(event.images[0].width, int64_t(8));
      ++previews;
    };
    const auto first = pipeline::generate(*sd1_, request, callbacks);
    QCOMPARE(steps, 6);
    QCOMPARE(previews, 4);  // steps 2 and 3 of each batch
    QCOMPARE(int(first.images.size()), 4);
    QCOMPARE(first.images[0].seed, int64_t(42));
    QCOMPARE(first.images[2].seed, int64_t(43));
    QCOMPARE(first.images[3].index_in_batch, 1);
    QCOMPARE(first.images[0].image.width, int64_t(64));
    const auto again = pipeline::generate(*sd1_, request);
    QVERIFY(sameImages(first.images, again.images));
    QVERIFY(first.images[0].image.data != first.images[1].image.data);  // batch members differ
    QVERIFY(first.images[0].image.data != first.images[2].image.data);  // batches differ

    // A batch of the run alone (seed + i, batch_count 1) reproduces that batch.
    const auto second_batch = pipeline::generate(*sd1_, pipeline::batchRequest(request, 43));
    QVERIFY(second_batch.images[0].image.data == first.images[2].image.data);
    QVERIFY(second_batch.images[1].image.data == first.images[3].image.data);

    request.batch_count = 1;
    request.batch_size = 1;
    request.seed = -1;
    const auto random = pipeline::generate(*sd1_, request);
    QVERIFY(random.request.seed >= 0);
    QCOMPARE(random.images[0].seed, random.request.seed);
  }

  void samplersAndSchedulersRun_data() {
    QTest::addColumn<QString>("sampler");
    QTest::addColumn<QString>("scheduler");
    QTest::newRow("euler_ancestral karras") << "euler_ancestral" << "karras";
    QTest::newRow("dpmpp_2m_sde exponential") << "dpmpp_2m_sde" << "exponential";
    QTest::newRow("ddim ddim_uniform") << "ddim" << "ddim_uniform";
    QTest::newRow("dpmpp_2m align_your_steps") << "dpmpp_2m" << "align_your_steps";
  }
  void samplersAndSchedulersRun() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    QFETCH(QString, sampler);
    QFETCH(QString, scheduler);
    GenerateRequest request = baseRequest();
    request.sampler = sampler.toStdString();
    request.scheduler = scheduler.toStdString();
    request.cfg_rescale = 0.5;
    const auto a = pipeline::generate(*sd1_, request);
    const auto b = pipeline::generate(*sd1_, request);
    QVERIFY(sameImages(a.images, b.images));
    request.seed = 43;
    QVERIFY(!sameImages(a.images, pipeline::generate(*sd1_, request).images));
  }

  void img2imgAndInpaint() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    GenerateRequest request = baseRequest();
    const auto txt = pipeline::generate(*sd1_, request);
    request.init_image = writeImage("init.png", 20);
    request.strength = 0.6;
    int steps = 0;
    pipeline::GenerateCallbacks callbacks;
    callbacks.on_step = [&](const pipeline::StepEvent&) { ++steps; };
    request.steps = 10;
    const auto img = pipeline::generate(*sd1_, request, callbacks);
    QCOMPARE(steps, 7);  // t_enc = 6, so 7 steps from index 3
    QVERIFY(sameImages(img.images, pipeline::generate(*sd1_, request).images));
    QVERIFY(!sameImages(img.images, txt.images));
    GenerateRequest weaker = request;
    weaker.strength = 0.3;
    QVERIFY(!sameImages(img.images, pipeline::generate(*sd1_, weaker).images));

    request.mask = writeMask();
    const auto inpainted = pipeline::generate(*sd1_, request);
    QVERIFY(sameImages(inpainted.images, pipeline::generate(*sd1_, request).images));
    QVERIFY(!sameImages(inpainted.images, img.images));
  }

  void inpaintingCheckpoint() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const std::string path = dir_.filePath("tiny_inpaint.safetensors").toStdString();
    test::writeTinyCheckpoint(path, test::tinySd1Config(9));
    GenerateRequest request = baseRequest();
    request.model = path;
    auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
    QCOMPARE(model->config().unet.in_channels, 9);
    const auto txt = pipeline::generate(*model, request);  // mask of ones, empty masked image
    request.init_image = writeImage("init9.png", 50);
    request.mask = writeMask();
    request.strength = 1.0;
    const auto inpainted = pipeline::generate(*model, request);
    QVERIFY(sameImages(inpainted.images, pipeline::generate(*model, request).images));
    QVERIFY(!sameImages(inpainted.images, txt.images));
  }

  void hiresFix() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    GenerateRequest request = baseRequest();
    request.hires_scale = 1.5;
    request.hires_strength = 0.5;
    request.hires_steps = 4;
    int hires_steps = 0;
    pipeline::GenerateCallbacks callbacks;
    callbacks.on_step = [&](const pipeline::StepEvent& event) {
      if (event.pass == 1) {
        ++hires_steps;
        QCOMPARE(event.x.size(2), int64_t(12));
      }
    };
    const auto result = pipeline::generate(*sd1_, request, callbacks);
    QCOMPARE(hires_steps, 3);  // t_enc = int(0.5·4) = 2 → 3 steps
    QCOMPARE(result.images[0].image.width, int64_t(96));
    QCOMPARE(result.images[0].image.height, int64_t(96));
    QVERIFY(sameImages(result.images, pipeline::generate(*sd1_, request).images));
  }

  void sdxlStyleCheckpoint() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const std::string path = dir_.filePath("tiny_xl.safetensors").toStdString();
    test::writeTinyCheckpoint(path, test::tinySdxlConfig());
    GenerateRequest request = baseRequest();
    request.model = path;
    auto model = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
    QCOMPARE(model->config().family, ModelFamily::SDXL);
    QCOMPARE(model->config().text_encoders[1].pad_token, int64_t(0));
    const auto a = pipeline::generate(*model, request);
    QVERIFY(sameImages(a.images, pipeline::generate(*model, request).images));
    request.original_width = 1024;  // the size conditioning reaches the UNet
    request.original_height = 1024;
    QVERIFY(!sameImages(a.images, pipeline::generate(*model, request).images));
  }

  // SD2-style (open_clip, pad 0); v-prediction from a YAML beside the checkpoint changes the result.
  void sd2StyleAndVPrediction() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const std::string eps_path = dir_.filePath("tiny_sd2.safetensors").toStdString();
    test::writeTinyCheckpoint(eps_path, test::tinySd2Config());
    GenerateRequest request = baseRequest();
    request.model = eps_path;
    auto eps = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
    QCOMPARE(eps->config().text_encoders[0].layout, TextEncoderLayout::OpenClip);
    QCOMPARE(eps->config().text_encoders[0].pad_token, int64_t(0));
    QCOMPARE(eps->config().prediction, Prediction::Epsilon);
    const auto eps_images = pipeline::generate(*eps, request);
    if (!yamlSupported()) return;
    const QString v_path = dir_.filePath("tiny_sd2_v.safetensors");
    QVERIFY(QFile::copy(QString::fromStdString(eps_path), v_path));
    QFile yaml(dir_.filePath("tiny_sd2_v.yaml"));
    QVERIFY(yaml.open(QIODevice::WriteOnly));
    yaml.write("model:\n  params:\n    parameterization: \"v\"\n    unet_config:\n      params:\n"
               "        in_channels: 4\n        out_channels: 4\n        model_channels: 64\n"
               "        attention_resolutions: [2, 1]\n        num_res_blocks: 1\n        channel_mult: [1, 2]\n"
               "        num_head_channels: 64\n        use_linear_in_transformer: true\n"
               "        transformer_depth: 1\n        context_dim: 64\n");
    yaml.close();
    request.model = v_path.toStdString();
    auto v = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
    QCOMPARE(v->config().prediction, Prediction::V);
    const auto v_images = pipeline::generate(*v, request);
    QVERIFY(!sameImages(eps_images.images, v_images.images));
    QVERIFY(sameImages(v_images.images, pipeline::generate(*v, request).images));
    // Zero terminal SNR (for v-prediction models trained that way) samples from a far larger sigma_max.
    request.zero_terminal_snr = true;
    double first_sigma = 0;
    pipeline::GenerateCallbacks callbacks;
    callbacks.on_step = [&](const pipeline::StepEvent& event) {
      if (first_sigma == 0) first_sigma = event.sigma;
    };
    const auto zsnr_images = pipeline::generate(*v, request, callbacks);
    QVERIFY2(first_sigma > 4000, qPrintable(QString("first sigma %1").arg(first_sigma)));
    QVERIFY(!sameImages(v_images.images, zsnr_images.images));
    QVERIFY(sameImages(zsnr_images.images, pipeline::generate(*v, request).images));
  }

  // An infotext as A1111 writes it (pre-1.9 sampler name with the schedule, hires fields) becomes a request.
  void requestFromA1111Infotext() {
    const image::GenerationParameters p = image::parseA1111Parameters(
        "masterpiece, (fox:1.2)\nNegative prompt: lowres, blurry\nSteps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, "
        "Seed: 3141592, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.45, "
        "Clip skip: 2, Hires upscale: 2, Hires steps: 12, Hires upscaler: Latent, Version: v1.6.0");
    const GenerateRequest r = pipeline::requestFromA1111(p);
    QCOMPARE(QString::fromStdString(r.prompt), QString("masterpiece, (fox:1.2)"));
    QCOMPARE(QString::fromStdString(r.negative_prompt), QString("lowres, blurry"));
    QCOMPARE(r.steps, 28);
    QCOMPARE(QString::fromStdString(r.sampler), QString("dpmpp_2m"));
    QCOMPARE(QString::fromStdString(r.scheduler), QString("karras"));
    QCOMPARE(r.cfg_scale, 6.5);
    QCOMPARE(r.seed, int64_t(3141592));
    QCOMPARE(r.width, 512);
    QCOMPARE(r.height, 768);
    QCOMPARE(r.clip_skip, 2);
    QCOMPARE(r.hires_scale, 2.0);
    QCOMPARE(r.hires_strength, 0.45);
    QCOMPARE(r.hires_steps, 12);
    QCOMPARE(r.strength, GenerateRequest{}.strength);  // the strength belongs to the hires pass here
    QVERIFY(r.model.empty());
  }

  void cancelStopsWithinOneCall() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    GenerateRequest request = baseRequest();
    request.steps = 8;
    CancelToken token;
    int steps = 0;
    pipeline::GenerateCallbacks callbacks;
    callbacks.cancel = &token;
    callbacks.on_step = [&](const pipeline::StepEvent&) {
      ++steps;
      token.cancel();
    };
    QCOMPARE(codeOf([&] { pipeline::generate(*sd1_, request, callbacks); }), ErrorCode::Cancelled);
    QCOMPARE(steps, 1);
    CancelToken before;
    before.cancel();
    callbacks.cancel = &before;
    steps = 0;
    QCOMPARE(codeOf([&] { pipeline::generate(*sd1_, request, callbacks); }), ErrorCode::Cancelled);
    QCOMPARE(steps, 0);
  }

  void pngMetadataRoundTrips() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    GenerateRequest request = baseRequest();
    request.batch_count = 2;
    request.clip_skip = 2;
    request.eta = 0.5;
    request.sampler = "dpmpp_2m";
    request.scheduler = "karras";
    const auto result = pipeline::generate(*sd1_, request);
    const std::string out = dir_.filePath("out").toStdString();
    const auto paths = pipeline::writeResult(*sd1_, result, out);
    QCOMPARE(int(paths.size()), 2);
    QVERIFY2(QString::fromStdString(paths[0]).endsWith("00000-42.png"), paths[0].c_str());
    QVERIFY2(QString::fromStdString(paths[1]).endsWith("00001-43.png"), paths[1].c_str());

    const auto metadata = image::readPngGenerationMetadata(paths[1]);
    QVERIFY(metadata.request_json && metadata.parameters);
    const GenerateRequest stored = pipeline::requestFromPng(paths[1]);
    QVERIFY(stored == pipeline::batchRequest(result.request, 43));
    const image::GenerationParameters& p = *metadata.parameters;
    QCOMPARE(QString::fromStdString(p.prompt), QString::fromStdString(request.prompt));
    QCOMPARE(QString::fromStdString(p.negative_prompt), QString("blurry"));
    QCOMPARE(p.seed, int64_t(43));
    QCOMPARE(p.steps, int64_t(3));
    QCOMPARE(QString::fromStdString(p.sampler), QString("dpmpp_2m"));
    QCOMPARE(QString::fromStdString(p.scheduler), QString("karras"));
    QVERIFY(metadata.parameters_text->find("Sampler: DPM++ 2M") != std::string::npos);
    QVERIFY(metadata.parameters_text->find("Schedule type: Karras") != std::string::npos);
    QCOMPARE(QString::fromStdString(p.model_hash), QString::fromStdString(util::sha256FileHex(sd1_path_).substr(0, 10)));
    QCOMPARE(QString::fromStdString(p.model), QString("tiny_sd1"));
    QVERIFY(p.clip_skip == std::optional<int64_t>(2));

    // The stored request reproduces the image exactly.
    const auto again = pipeline::generate(*sd1_, stored);
    const image::Image written = image::readImage(paths[1]);
    QVERIFY(again.images[0].image.data == written.data);
    QVERIFY(written.data == result.images[1].image.data);

    // The A1111 text alone gives the same sampling parameters back.
    GenerateRequest from_text = pipeline::requestFromA1111(p);
    QCOMPARE(QString::fromStdString(from_text.prompt), QString::fromStdString(request.prompt));
    QCOMPARE(from_text.seed, int64_t(43));
    QCOMPARE(from_text.clip_skip, 2);
    QVERIFY(from_text.eta == std::optional<double>(0.5));
    QCOMPARE(from_text.cfg_scale, request.cfg_scale);
    QCOMPARE(from_text.width, 64);

    // A second run continues the numbering.
    const auto more = pipeline::writeResult(*sd1_, result, out);
    QVERIFY2(QString::fromStdString(more[0]).endsWith("00002-42.png"), more[0].c_str());
  }

  // Compare: cells advance in lock-step, each equals the same request run alone, and the grid holds them all.
  void compareCellsInterleaveAndMatch() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const GenerateRequest base = baseRequest();
    const auto cells = pipeline::compareCells({"euler", "dpmpp_2m"}, {"karras"}, {2, 4}, {5.0});
    QCOMPARE(int(cells.size()), 4);
    std::vector<std::pair<int, int>> order;  // (cell, step)
    pipeline::CompareCallbacks callbacks;
    callbacks.on_step = [&](int cell, const pipeline::StepEvent& event) { order.emplace_back(cell, event.step); };
    const auto result = pipeline::compare(*sd1_, base, cells, callbacks);
    QCOMPARE(int(order.size()), 2 + 4 + 2 + 4);
    // No cell starts step k + 1 before every unfinished cell has finished step k.
    for (size_t i = 1; i < order.size(); ++i) {
      for (size_t j = 0; j < i; ++j) QVERIFY(order[j].second <= order[i].second + 1);
    }
    for (size_t i = 0; i < cells.size(); ++i) {
      GenerateRequest alone = base;
      alone.sampler = cells[i].sampler;
      alone.scheduler = cells[i].scheduler;
      alone.steps = cells[i].steps;
      alone.cfg_scale = cells[i].cfg_scale;
      QVERIFY(pipeline::generate(*sd1_, alone).images[0].image.data == result.images[i].data);
    }
    QCOMPARE(result.grid.width, int64_t(2 * 64));
    // Two rows of a 64 px image under a label strip of whole 6 px text lines (words wrapped to the cell width).
    QCOMPARE(result.grid.height % 2, int64_t(0));
    const int64_t label_height = result.grid.height / 2 - 64;
    QVERIFY2(label_height >= 10 && (label_height - 4) % 6 == 0, qPrintable(QString::number(label_height)));
    // The label strip has white text on black.
    bool has_text = false;
    for (int64_t x = 0; x < 64; ++x) has_text = has_text || result.grid.pixel(x, 4)[0] == 255;
    QVERIFY(has_text);

    CancelToken token;
    token.cancel();
    callbacks.cancel = &token;
    QCOMPARE(codeOf([&] { pipeline::compare(*sd1_, base, cells, callbacks); }), ErrorCode::Cancelled);
    GenerateRequest bad = base;
    QCOMPARE(codeOf([&] { pipeline::compare(*sd1_, bad, pipeline::compareCells({"nope"}, {"karras"}, {2}, {5.0})); }),
             ErrorCode::InvalidArgument);
  }

  void mismatchedRequestIsRefused() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    GenerateRequest request = baseRequest();
    request.precision = "bf16";
    QCOMPARE(codeOf([&] { pipeline::generate(*sd1_, request); }), ErrorCode::InvalidArgument);
    // bf16 on the CPU: the UNet in bf16, deterministic, close to but not equal to fp32.
    auto bf16 = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
    QCOMPARE(bf16->unet->parameters().front().scalar_type(), at::kBFloat16);
    const auto a = pipeline::generate(*bf16, request);
    QVERIFY(sameImages(a.images, pipeline::generate(*bf16, request).images));
    request.precision = "fp16";
    QCOMPARE(codeOf([&] { pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request)); }),
             ErrorCode::InvalidArgument);
  }
};

QTEST_GUILESS_MAIN(PipelineTest)
#include "test_pipeline.moc"
