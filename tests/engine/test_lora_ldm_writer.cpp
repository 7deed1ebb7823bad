// Full fine-tune export: io::writeLdmCheckpoint writes networks as one LDM/sgm .safetensors file that the checkpoint
// loader reads back exactly (SD1, SD2, SDXL tiny models; fp32 bit for bit, fp16/bf16 as the rounded values), with the
// same keys as the original checkpoint; bad arguments leave no file.
#include "gesso/io/checkpoint.h"
#include "gesso/io/ldm_writer.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/model_loader.h"
#include "expect_error.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <set>

using namespace gesso;

namespace {

struct Loaded {
  ModelConfig config;
  models::UNet unet{nullptr};
  models::AutoencoderKL vae{nullptr};
  std::vector<models::TextEncoder> text_encoders;
};

Loaded loadAll(const std::string& path) {
  const io::Checkpoint checkpoint = io::Checkpoint::open(path);
  Loaded loaded;
  loaded.config = resolveConfig(checkpoint).config;
  loaded.unet = loadUNet(checkpoint, loaded.config);
  loaded.vae = loadVae(checkpoint, loaded.config);
  for (size_t i = 0; i < loaded.config.text_encoders.size(); ++i) {
    loaded.text_encoders.push_back(loadTextEncoder(checkpoint, loaded.config, i));
  }
  return loaded;
}

std::set<std::string> keysOf(const std::string& path) {
  std::set<std::string> keys;
  const auto file = io::SafetensorsFile::open(path);
  for (const auto& info : file->tensors()) keys.insert(info.name);
  return keys;
}

}  // namespace

class LdmWriterTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string path(const std::string& name) const { return dir_.filePath(QString::fromStdString(name)).toStdString(); }

  void roundTrip(const char* label, const ModelConfig& config) {
    const std::string original = path(std::string(label) + "_original.safetensors");
    test::writeTinyCheckpoint(original, config);
    Loaded model = loadAll(original);
    {
      // "Fine-tuning": a change in one UNet weight and one text-encoder weight.
      torch::NoGradGuard no_grad;
      model.unet->named_parameters()["out.2.weight"].add_(0.125);
      model.text_encoders[0]->parameters().back().mul_(1.5);
    }
    const std::string written = path(std::string(label) + "_fp32.safetensors");
    io::writeLdmCheckpoint(written, model.unet, model.vae, model.text_encoders, model.config, at::kFloat, {{"note", label}});
    QCOMPARE(keysOf(written), keysOf(original));
    const auto file = io::SafetensorsFile::open(written);
    QCOMPARE(file->metadata().at("note"), std::string(label));
    QCOMPARE(file->metadata().at("format"), std::string("pt"));

    Loaded back = loadAll(written);
    QCOMPARE(back.config.family, config.family);
    QCOMPARE(back.config.unet.use_linear_in_transformer, config.unet.use_linear_in_transformer);
    QCOMPARE(back.config.text_encoders.size(), config.text_encoders.size());
    int compared = 0;
    auto same = [&](torch::nn::Module& a, torch::nn::Module& b) {
      const auto b_parameters = b.named_parameters();
      for (const auto& item : a.named_parameters()) {
        QVERIFY2(at::equal(item.value(), b_parameters[item.key()]), item.key().c_str());
        ++compared;
      }
    };
    same(*model.unet, *back.unet);
    same(*model.vae, *back.vae);
    for (size_t i = 0; i < model.text_encoders.size(); ++i) same(*model.text_encoders[i], *back.text_encoders[i]);
    qInfo("%s: %d tensors identical after the fp32 round trip", label, compared);

    for (const auto dtype : {at::kHalf, at::kBFloat16}) {
      const std::string narrow = path(std::string(label) + (dtype == at::kHalf ? "_fp16" : "_bf16") + ".safetensors");
      io::writeLdmCheckpoint(narrow, model.unet, model.vae, model.text_encoders, model.config, dtype, {});
      const auto narrow_file = io::SafetensorsFile::open(narrow);
      for (const auto& info : narrow_file->tensors()) {
        QCOMPARE(int(info.dtype), int(dtype == at::kHalf ? io::Dtype::F16 : io::Dtype::BF16));
      }
      Loaded rounded = loadAll(narrow);
      const auto expected = model.unet->named_parameters();
      double max_diff = 0;
      for (const auto& item : rounded.unet->named_parameters()) {
        const at::Tensor want = expected[item.key()].to(dtype).to(at::kFloat);
        QVERIFY2(at::equal(item.value(), want), item.key().c_str());
        max_diff = std::max(max_diff, (item.value() - expected[item.key()]).abs().max().item<double>());
      }
      qInfo("%s %s: UNet equals the rounded weights; max rounding %.3g", label, dtype == at::kHalf ? "fp16" : "bf16", max_diff);
    }
  }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }
  void sd1() { roundTrip("sd1", test::tinySd1Config()); }
  void sd2() { roundTrip("sd2", test::tinySd2Config()); }
  void sdxl() { roundTrip("sdxl", test::tinySdxlConfig()); }

  void badArguments() {
    const ModelConfig config = test::tinySd1Config();
    const auto options = at::TensorOptions().dtype(at::kFloat);
    models::UNet unet(config.unet, options);
    models::AutoencoderKL vae(config.vae, options);
    std::vector<models::TextEncoder> text_encoders{models::TextEncoder(config.text_encoders[0], options)};
    const std::string target = path("bad.safetensors");
    GESSO_EXPECT_ERROR(io::writeLdmCheckpoint(target, unet, vae, text_encoders, config, at::kInt, {}), ErrorCode::InvalidArgument,
                       "fp32, fp16 or bf16");
    std::vector<models::TextEncoder> none;
    GESSO_EXPECT_ERROR(io::writeLdmCheckpoint(target, unet, vae, none, config, at::kFloat, {}), ErrorCode::ConfigError,
                       "text encoders");
    models::UNet meta_unet(config.unet, options.device(at::kMeta));
    GESSO_EXPECT_ERROR(io::writeLdmCheckpoint(target, meta_unet, vae, text_encoders, config, at::kFloat, {}),
                       ErrorCode::InvalidArgument, "meta");
    QVERIFY(!QFile::exists(QString::fromStdString(target)));
    QCOMPARE(QDir(dir_.path()).entryList(QDir::Files).filter("bad").size(), 0);  // no temporary left behind
  }
};

QTEST_GUILESS_MAIN(LdmWriterTest)
#include "test_lora_ldm_writer.moc"
