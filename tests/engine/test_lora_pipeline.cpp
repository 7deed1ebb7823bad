// LoRAs in generation on a tiny random SD1 checkpoint: request.loras and <lora:NAME:w> prompt tags (lora_dir), strength
// 0 equals the base model bit for bit, the tag and the explicit reference give the same image, the set is re-merged only
// when it changes, A1111's "Lora hashes" in the PNG infotext, the request JSON round trip, and named errors.
#include "gesso/image/png_metadata.h"
#include "gesso/io/safetensors.h"
#include "gesso/lora/lora_network.h"
#include "gesso/pipeline/generate_request.h"
#include "gesso/pipeline/output.h"
#include "gesso/pipeline/pipeline.h"
#include "gesso/util/sha256.h"
#include "expect_error.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace gesso;
using pipeline::GenerateRequest;

namespace {

bool sameImages(const pipeline::GenerateResult& a, const pipeline::GenerateResult& b) {
  if (a.images.size() != b.images.size()) return false;
  for (size_t i = 0; i < a.images.size(); ++i) {
    if (a.images[i].image.data != b.images[i].image.data) return false;
  }
  return true;
}

// sd-scripts' addnet hash, computed here from the bytes: SHA-256 of everything after the 8-byte length and the header.
std::string addnetHash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | static_cast<unsigned char>(bytes[i]);
  return util::sha256Hex(std::string_view(bytes).substr(8 + header));
}

}  // namespace

class LoraPipelineTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string tokenizer_;
  std::string model_path_;
  std::string lora_dir_;
  std::string lora_path_;
  std::shared_ptr<pipeline::LoadedModel> model_;

  GenerateRequest baseRequest() const {
    GenerateRequest request;
    request.model = model_path_;
    request.tokenizer = tokenizer_;
    request.prompt = "a fox in snow";
    request.steps = 2;
    request.width = 64;
    request.height = 64;
    request.seed = 7;
    return request;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    tokenizer_ = test::sharedTokenizerPath();
    if (tokenizer_.empty()) return;
    const ModelConfig config = test::tinySd1Config();
    model_path_ = dir_.filePath("tiny.safetensors").toStdString();
    test::writeTinyCheckpoint(model_path_, config);
    model_ = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(baseRequest()));

    // A "trained" LoRA on the loaded model's own networks, saved into lora_dir/styles/.
    QVERIFY(QDir(dir_.path()).mkpath("loras/styles"));
    lora_dir_ = dir_.filePath("loras").toStdString();
    lora_path_ = lora_dir_ + "/styles/fox_style.safetensors";
    lora::LoraOptions options;
    options.rank = 4;
    options.alpha = 4;
    options.train_text_encoder = true;
    auto network = lora::LoraNetwork::attach(model_->unet, model_->text_encoders, model_->config(), options, 1);
    {
      torch::NoGradGuard no_grad;
      at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(2);
      for (at::Tensor& p : network->parameters()) p.copy_(at::randn(p.sizes(), generator) * 0.3);
    }
    network->save(lora_path_, {{"ss_output_name", "fox_style"}}, at::kFloat);
    network->detach();
  }

  void strengthZeroIsBase() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    const pipeline::GenerateResult base = pipeline::generate(*model_, baseRequest());
    GenerateRequest zero = baseRequest();
    zero.loras = {{lora_path_, 0.0}};
    const pipeline::GenerateResult at_zero = pipeline::generate(*model_, zero);
    QVERIFY(sameImages(base, at_zero));
    GenerateRequest one = baseRequest();
    one.loras = {{lora_path_, 1.0}};
    const pipeline::GenerateResult at_one = pipeline::generate(*model_, one);
    QVERIFY(!sameImages(base, at_one));
    QCOMPARE(model_->loras.current().size(), size_t{1});
    // Back to no LoRA: the base image again, bit for bit.
    QVERIFY(sameImages(base, pipeline::generate(*model_, baseRequest())));
    QVERIFY(model_->loras.current().empty());
  }

  void promptTagEqualsExplicitReference() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    GenerateRequest explicit_request = baseRequest();
    explicit_request.loras = {{lora_path_, 0.5}};
    const pipeline::GenerateResult by_path = pipeline::generate(*model_, explicit_request);
    GenerateRequest tagged = baseRequest();
    tagged.prompt = "a fox in snow <lora:fox_style:0.5>";  // the tag is taken out of the text (0.5: exact in float)
    tagged.lora_dir = lora_dir_;                            // found in styles/
    const auto set = pipeline::resolveLoras(tagged);
    QCOMPARE(set.size(), size_t{1});
    QCOMPARE(QString::fromStdString(set[0].path), QString::fromStdString(lora_path_));
    const pipeline::GenerateResult by_tag = pipeline::generate(*model_, tagged);
    QVERIFY(sameImages(by_path, by_tag));
    // The same set again is not re-merged.
    QVERIFY(!model_->loras.apply(model_->unet, model_->text_encoders, model_->config(), pipeline::resolveLoras(tagged)));

    const std::string expected = "fox_style: " + addnetHash(lora_path_).substr(0, 12);
    QCOMPARE(QString::fromStdString(by_tag.lora_hashes), QString::fromStdString(expected));
    GESSO_REQUIRE_IMAGE_IO();
    const auto paths = pipeline::writeResult(*model_, by_tag, dir_.filePath("out").toStdString());
    const image::PngGenerationMetadata metadata = image::readPngGenerationMetadata(paths.at(0));
    QVERIFY(metadata.parameters_text);
    qInfo("infotext: %s", metadata.parameters_text->c_str());
    QVERIFY2(metadata.parameters_text->find("Lora hashes: \"" + expected + "\"") != std::string::npos, metadata.parameters_text->c_str());
    QVERIFY(metadata.parameters_text->find("<lora:fox_style:0.5>") != std::string::npos);
  }

  void unetAndTextStrengths() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    GenerateRequest plain = baseRequest();
    plain.prompt = "fox";
    const pipeline::GenerateResult base = pipeline::generate(*model_, plain);
    GenerateRequest tagged = baseRequest();
    tagged.lora_dir = lora_dir_;
    tagged.prompt = "fox <lora:fox_style:0:0>";
    QVERIFY(sameImages(base, pipeline::generate(*model_, tagged)));
    tagged.prompt = "fox <lora:fox_style:0:1>";  // UNet only
    const auto set = pipeline::resolveLoras(tagged);
    QCOMPARE(set.at(0).text_encoder_strength, 0.0);
    QCOMPARE(set.at(0).unet_strength, 1.0);
    QVERIFY(!sameImages(base, pipeline::generate(*model_, tagged)));
  }

  void errors() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    GenerateRequest no_dir = baseRequest();
    no_dir.prompt = "fox <lora:fox_style:1>";
    GESSO_EXPECT_ERROR(pipeline::generate(*model_, no_dir), ErrorCode::InvalidArgument, "<lora:fox_style>");
    GenerateRequest missing = no_dir;
    missing.lora_dir = lora_dir_;
    missing.prompt = "fox <lora:nobody:1>";
    GESSO_EXPECT_ERROR(pipeline::generate(*model_, missing), ErrorCode::FileNotFound, "nobody.safetensors");
    missing.prompt = "fox <lora:../loras/styles/fox_style:1>";
    GESSO_EXPECT_ERROR(pipeline::resolveLoras(missing), ErrorCode::InvalidArgument, "names a path");
    // A LoRA for another model: named error, and the model keeps generating base images.
    const std::string foreign = dir_.filePath("foreign.safetensors").toStdString();
    io::writeSafetensors(foreign, {{"lora_unet_input_blocks_8_1_proj_in.lora_down.weight", at::zeros({2, 32})},
                                   {"lora_unet_input_blocks_8_1_proj_in.lora_up.weight", at::zeros({32, 2})}});
    GenerateRequest bad = baseRequest();
    bad.loras = {{foreign, 1.0}};
    GESSO_EXPECT_ERROR(pipeline::generate(*model_, bad), ErrorCode::UnexpectedKey, "lora_unet_input_blocks_8_1_proj_in");
    QVERIFY(model_->loras.current().empty());
  }

  void requestJson() {
    GenerateRequest request;
    request.model = "m.safetensors";
    request.loras = {{"/a/b.safetensors", 0.1 + 0.2}, {"c.safetensors", -1.5}};
    request.lora_dir = "/loras";
    const GenerateRequest back = pipeline::requestFromJson(pipeline::requestToJson(request));
    QVERIFY(back == request);
    QVERIFY(!(back == GenerateRequest{}));
    GESSO_EXPECT_ERROR(pipeline::requestFromJson(R"({"loras": [{"path": "x", "weight": 1}]})"), ErrorCode::InvalidArgument, "weight");
    GESSO_EXPECT_ERROR(pipeline::requestFromJson(R"({"loras": "x"})"), ErrorCode::InvalidArgument, "loras");
    GenerateRequest empty_path = request;
    empty_path.loras = {{"", 1.0}};
    GESSO_EXPECT_ERROR(pipeline::validateRequest(empty_path), ErrorCode::InvalidArgument, "empty path");
  }
};

QTEST_GUILESS_MAIN(LoraPipelineTest)
#include "test_lora_pipeline.moc"
