// The training engine on a tiny random SD1-style checkpoint and a tiny synthetic dataset written here: config JSON,
// schedules, loss falling, resume bit-exactness, refused checkpoints, the NaN stop, gradient checkpointing, EMA,
// metrics.jsonl and the full fine-tune's exported checkpoint.
#include "expect_error.h"
#include "gesso/image/image_io.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/unet.h"
#include "gesso/nn/layers.h"
#include "gesso/pipeline/pipeline.h"
#include "gesso/training/checkpoint_store.h"
#include "gesso/training/ema.h"
#include "gesso/training/lr_schedule.h"
#include "gesso/training/metrics.h"
#include "gesso/training/optimizer.h"
#include "gesso/training/trainer.h"
#include "gesso/util/process_memory.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QTemporaryDir>
#include <QtTest>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace gesso;
using namespace gesso::training;
namespace fs = std::filesystem;

namespace {

// Named colours for the synthetic images and captions.
struct Colour {
  const char* name;
  uint8_t r, g, b;
};
constexpr Colour kColours[] = {{"red", 220, 30, 30}, {"green", 30, 200, 60}, {"blue", 40, 60, 220}, {"yellow", 230, 220, 40}};

// A square of one colour on a plain background of another, in one of four corners.
void writeShapeImage(const std::string& path, int index) {
  const Colour& fg = kColours[index % 4];
  const Colour& bg = kColours[(index + 1 + index / 4) % 4];
  image::Image img = image::makeImage(64, 64, 3);
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
  image::writePng(path, img);
  std::ofstream(fs::path(path).replace_extension(".txt")) << "a " << fg.name << " square, " << bg.name << " background";
}

std::vector<uint8_t> fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Max |a - b| over every tensor of two safetensors files with the same names (+inf if the names differ).
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

// VmHWM reset (Linux >= 4.0), so peaks of consecutive phases can be measured in one process.
void resetPeakMemory() { std::ofstream("/proc/self/clear_refs") << "5"; }

}  // namespace

class TrainTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string tokenizer_;
  std::string model_;
  std::string data_;

  std::string path(const std::string& name) const { return dir_.filePath(QString::fromStdString(name)).toStdString(); }

  TrainConfig baseConfig(const std::string& run) const {
    TrainConfig config;
    config.model = model_;
    config.tokenizer = tokenizer_;
    config.data = data_;
    config.output = path(run);
    config.cache_dir = path("cache");
    config.method = "full";
    config.resolution = 64;
    config.batch_size = 2;
    config.lr = 1e-3;
    config.steps = 8;
    config.seed = 5;
    return config;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    tokenizer_ = test::sharedTokenizerPath();
    model_ = path("tiny-sd1.safetensors");
    test::writeTinyCheckpoint(model_, test::tinySd1Config());
    data_ = path("data");
    fs::create_directories(data_ + "/sub");
    for (int i = 0; i < 8; ++i) writeShapeImage(data_ + (i < 4 ? "/" : "/sub/") + "img" + std::to_string(i) + ".png", i);
  }

  void configJsonRoundTrip() {
    TrainConfig config = baseConfig("json");
    config.method = "lora";
    config.rank = 8;
    config.alpha = 4.5;
    config.lr = 3.0e-5;
    config.lr_scheduler = "cosine";
    config.ema = 0.999;
    config.noise_offset = 0.0357;
    config.min_snr = 5;
    config.mixed_precision = "bf16";
    config.device = "cuda:0";
    config.train_text_encoder = true;
    config.sample_prompts = "p.txt";
    const TrainConfig back = TrainConfig::fromJson(config.toJson());
    QVERIFY(back == config);
    QCOMPARE(back.alpha, 4.5);
    QCOMPARE(back.noise_offset, 0.0357);
    GESSO_EXPECT_ERROR(TrainConfig::fromJson(R"({"lr_schedular": "cosine"})"), ErrorCode::InvalidArgument, "lr_schedular");
    GESSO_EXPECT_ERROR(TrainConfig::fromJson(R"({"steps": "ten"})"), ErrorCode::InvalidArgument, "steps");
    TrainConfig bad = baseConfig("bad");
    bad.lr_scheduler = "exponential";
    GESSO_EXPECT_ERROR(bad.validate(), ErrorCode::InvalidArgument, "lr_scheduler");
    bad = baseConfig("bad");
    bad.mixed_precision = "fp16";
    GESSO_EXPECT_ERROR(bad.validate(), ErrorCode::InvalidArgument, "CPU");
  }

  void schedules() {
    // Independent expectations: warm-up ramps linearly from 0; afterwards constant 1, linear to 0, half cosine.
    const int64_t total = 110, warmup = 10;
    for (int64_t step : {0, 5, 10, 35, 60, 85, 109}) {
      const double ramp = step < warmup ? step / 10.0 : 1.0;
      const double progress = step < warmup ? 0.0 : (step - 10) / 100.0;
      QCOMPARE(lrFactor(LrSchedule::Constant, step, total, warmup), 1.0);
      QCOMPARE(lrFactor(LrSchedule::ConstantWithWarmup, step, total, warmup), ramp);
      const double linear = step < warmup ? ramp : 1.0 - progress;
      const double cosine = step < warmup ? ramp : (1.0 + std::cos(M_PI * progress)) / 2.0;
      QVERIFY2(std::abs(lrFactor(LrSchedule::Linear, step, total, warmup) - linear) < 1e-12, qPrintable(QString::number(step)));
      QVERIFY2(std::abs(lrFactor(LrSchedule::Cosine, step, total, warmup) - cosine) < 1e-12, qPrintable(QString::number(step)));
    }
    QCOMPARE(lrFactor(LrSchedule::Cosine, 60, total, warmup), 0.5);  // half-way after warm-up
    QCOMPARE(lrFactor(LrSchedule::Linear, 85, total, warmup), 0.25);
    QCOMPARE(lrFactor(LrSchedule::Linear, 200, total, warmup), 0.0);
    QCOMPARE(parseLrSchedule("constant_with_warmup"), LrSchedule::ConstantWithWarmup);
    GESSO_EXPECT_ERROR(parseLrSchedule("step"), ErrorCode::InvalidArgument, "step");
  }

  void emaAndClipping() {
    at::Tensor w = at::full({3}, 1.0).requires_grad_(true);
    Ema ema({w}, 0.9);
    {
      at::NoGradGuard no_grad;
      w.fill_(2.0);
    }
    ema.update({w});
    QVERIFY(std::abs(ema.shadow()[0][0].item<double>() - (0.9 * 1.0 + 0.1 * 2.0)) < 1e-6);  // float32 shadow
    w.mutable_grad() = at::tensor({3.0, 4.0, 0.0}, at::kFloat);
    const double norm = clipGradNorm({w}, 1.0);
    QCOMPARE(norm, 5.0);
    QVERIFY(std::abs(w.grad().norm().item<double>() - 1.0) < 1e-5);
  }

  void gradientCheckpointingSameGradients() {
    ModelConfig config = test::tinySd1Config();
    models::UNet unet(config.unet, at::TensorOptions().dtype(at::kFloat));
    nn::fillRandomWeights(*unet, 3);
    auto generator = at::make_generator<at::CPUGeneratorImpl>(11);
    const at::Tensor x = at::randn({4, 4, 32, 32}, generator);
    const at::Tensor t = at::tensor({10.0f, 200.0f, 500.0f, 900.0f});
    const at::Tensor context = at::randn({4, 77, 64}, generator);
    auto gradients = [&](bool checkpointing, uint64_t& peak_bytes) {
      unet->setGradientCheckpointing(checkpointing);
      unet->zero_grad();
      resetPeakMemory();
      const uint64_t before = processMemory().resident_bytes;
      const at::Tensor loss = unet->forward(x, t, context).pow(2).mean();
      loss.backward();
      peak_bytes = processMemory().peak_resident_bytes - before;
      std::vector<at::Tensor> grads;
      for (const auto& p : unet->parameters()) grads.push_back(p.grad().clone());
      return grads;
    };
    uint64_t plain_peak = 0, checkpoint_peak = 0;
    const auto checkpointed = gradients(true, checkpoint_peak);  // first: freed memory may stay resident
    const auto plain = gradients(false, plain_peak);
    QCOMPARE(plain.size(), checkpointed.size());
    double max_diff = 0;
    for (size_t i = 0; i < plain.size(); ++i) max_diff = std::max(max_diff, (plain[i] - checkpointed[i]).abs().max().item<double>());
    qInfo("gradient checkpointing: max |grad difference| %.3g over %zu tensors; peak RSS growth %.1f MiB without, %.1f MiB with",
          max_diff, plain.size(), plain_peak / 1048576.0, checkpoint_peak / 1048576.0);
    QVERIFY(max_diff <= 1e-5);
    unet->setGradientCheckpointing(false);
  }

  void lossFallsFullFineTune() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    TrainConfig config = baseConfig("falls");
    config.steps = 50;
    config.lr = 2e-3;
    config.save_every = 25;
    std::vector<double> losses;
    TrainCallbacks callbacks;
    callbacks.on_step = [&losses](const StepMetrics& m) { losses.push_back(m.loss); };
    const TrainResult result = Trainer(config).run(callbacks);
    QCOMPARE(int(result.status), int(TrainStatus::Completed));
    QCOMPARE(losses.size(), size_t(50));
    double first = 0, last = 0;
    for (int i = 0; i < 10; ++i) first += losses[i] / 10;
    for (int i = 40; i < 50; ++i) last += losses[i] / 10;
    qInfo("mean loss of steps 1-10: %.4f, of steps 41-50: %.4f", first, last);
    QVERIFY2(last < 0.8 * first, "the loss did not fall by 20 %");

    // metrics.jsonl: 50 step records, a start, an end and two checkpoints.
    const auto records = readMetrics(config.output);
    int steps = 0, checkpoints = 0;
    for (const auto& r : records) {
      steps += r.type == "step";
      checkpoints += r.type == "checkpoint";
    }
    QCOMPARE(steps, 50);
    QCOMPARE(checkpoints, 2);
    QCOMPARE(records.front().type, std::string("start"));
    QCOMPARE(records.back().run.status, std::string("completed"));
    QCOMPARE(listCheckpoints(config.output).size(), size_t(2));

    // The exported single-file checkpoint loads through the normal loader and holds the trained UNet weights.
    if (result.output_file.empty()) QSKIP("no LDM writer in this build yet");
    pipeline::ModelLoadOptions options;
    options.model = result.output_file;
    options.tokenizer = tokenizer_;
    auto model = pipeline::LoadedModel::load(options);
    const auto trained = io::SafetensorsFile::open(listCheckpoints(config.output).back().path + "/trained.safetensors");
    const auto reloaded = model->unet->parameters();
    double max_diff = 0;
    for (size_t i = 0; i < reloaded.size(); ++i) {
      max_diff = std::max(max_diff, (reloaded[i] - trained->tensor(trained->tensors()[i].name)).abs().max().item<double>());
    }
    qInfo("exported (fp16) vs trained UNet weights: max diff %.3g", max_diff);
    QVERIFY(max_diff < 1e-2);
  }

  void resumeIsBitExact() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    TrainConfig config = baseConfig("straight");
    config.steps = 8;
    config.grad_accum = 2;
    config.ema = 0.9;
    config.noise_offset = 0.05;
    config.min_snr = 5;
    config.flip = true;
    config.caption_dropout = 0.2;
    config.lr_scheduler = "cosine";
    config.warmup = 2;
    config.validation_split = 0.25;
    config.validate_every = 4;
    const TrainResult straight = Trainer(config).run();
    QCOMPARE(int(straight.status), int(TrainStatus::Completed));

    // The same run interrupted after 4 steps (as Ctrl-C does), then resumed.
    config.output = path("interrupted");
    CancelToken cancel;
    TrainCallbacks callbacks;
    callbacks.cancel = &cancel;
    callbacks.on_step = [&cancel](const StepMetrics& m) {
      if (m.step == 4) cancel.cancel();
    };
    const TrainResult first = Trainer(config).run(callbacks);
    QCOMPARE(int(first.status), int(TrainStatus::Cancelled));
    QCOMPARE(first.step, int64_t(4));
    TrainConfig resume;
    resume.resume = config.output;
    std::string messages;
    TrainCallbacks resume_callbacks;
    resume_callbacks.on_message = [&messages](const std::string& m) { messages += m + "\n"; };
    const TrainResult second = Trainer(resume).run(resume_callbacks);
    QCOMPARE(int(second.status), int(TrainStatus::Completed));
    QCOMPARE(second.step, int64_t(8));
    QVERIFY2(messages.find("resumed from") != std::string::npos, messages.c_str());

    const std::string a = straight.checkpoint, b = second.checkpoint;
    for (const char* file : {"trained.safetensors", "optimizer.safetensors", "ema.safetensors", "rng.safetensors"}) {
      const double diff = maxFileDiff(a + "/" + file, b + "/" + file);
      qInfo("resume after 4 of 8 steps: %s max diff %.3g", file, diff);
      QCOMPARE(diff, 0.0);
    }
    QVERIFY(fileBytes(a + "/trained.safetensors") == fileBytes(b + "/trained.safetensors"));

    // The validation losses are comparable (fixed timesteps and noise) and equal between the two runs.
    auto validations = [](const std::string& run) {
      std::vector<double> losses;
      for (const auto& r : readMetrics(run)) {
        if (r.type == "validation") losses.push_back(r.validation.loss);
      }
      return losses;
    };
    QCOMPARE(validations(path("straight")), validations(path("interrupted")));
    QCOMPARE(validations(path("straight")).size(), size_t(2));
  }

  void incompleteCheckpointRefused() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    TrainConfig config = baseConfig("refuse");
    config.steps = 6;
    config.save_every = 2;
    config.keep = 2;
    const TrainResult result = Trainer(config).run();
    QCOMPARE(int(result.status), int(TrainStatus::Completed));
    auto all = listCheckpoints(config.output);
    QCOMPARE(all.size(), size_t(2));  // keep 2: steps 4 and 6
    QCOMPARE(all[0].step, int64_t(4));
    // Damage the newest: one file cut short (as a kill during a copy would leave it).
    const std::string newest = all[1].path;
    fs::resize_file(newest + "/optimizer.safetensors", fs::file_size(newest + "/optimizer.safetensors") / 2);
    // And a temporary folder of a killed save.
    fs::create_directories(checkpointsFolder(config.output) + "/.tmp-step-00000008-1");
    GESSO_EXPECT_ERROR(verifyCheckpoint(newest), ErrorCode::InvalidFormat, "optimizer.safetensors");
    std::vector<std::string> refused;
    const auto found = newestValidCheckpoint(config.output, [&refused](const std::string& p, const std::string& why) {
      qInfo("refused %s: %s", p.c_str(), why.c_str());
      refused.push_back(p);
    });
    QVERIFY(found.has_value());
    QCOMPARE(found->step, int64_t(4));
    QCOMPARE(refused, std::vector<std::string>{newest});

    // Resuming runs steps 5 and 6 again from step 4 and names the refused checkpoint.
    TrainConfig resume;
    resume.resume = config.output;
    std::string messages;
    TrainCallbacks callbacks;
    callbacks.on_message = [&messages](const std::string& m) { messages += m + "\n"; };
    std::vector<int64_t> steps;
    callbacks.on_step = [&steps](const StepMetrics& m) { steps.push_back(m.step); };
    const TrainResult resumed = Trainer(resume).run(callbacks);
    QCOMPARE(int(resumed.status), int(TrainStatus::Completed));
    QCOMPARE(steps, (std::vector<int64_t>{5, 6}));
    QVERIFY2(messages.find("refusing checkpoint " + newest) != std::string::npos, messages.c_str());
    verifyCheckpoint(resumed.checkpoint);  // the redone step 6 replaced the damaged one

    // No complete checkpoint at all: a clear error.
    fs::remove(resumed.checkpoint + "/manifest.json");
    fs::remove(all[0].path + "/manifest.json");
    GESSO_EXPECT_ERROR(Trainer(resume).run(), ErrorCode::FileNotFound, "no complete checkpoint");
  }

  void absurdLearningRateStopsWithCheckpointIntact() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    TrainConfig config = baseConfig("nan");
    config.steps = 30;
    config.save_every = 1;
    config.lr = 1e12;
    config.max_grad_norm = 0;
    const TrainResult result = Trainer(config).run();
    qInfo("absurd lr: %s after %lld steps: %s", trainStatusName(result.status), static_cast<long long>(result.step), result.message.c_str());
    QCOMPARE(int(result.status), int(TrainStatus::Diverged));
    QVERIFY(result.step < 30);
    QVERIFY(!result.checkpoint.empty());
    QVERIFY(result.message.find(result.checkpoint) != std::string::npos);
    QCOMPARE(listCheckpoints(config.output).back().step, result.step);  // nothing saved after the last good step
    verifyCheckpoint(result.checkpoint);
    const auto trained = io::SafetensorsFile::open(result.checkpoint + "/trained.safetensors");
    for (const auto& info : trained->tensors()) QVERIFY(at::isfinite(trained->tensor(info.name)).all().item<bool>());
    QCOMPARE(readMetrics(config.output).back().run.status, std::string("diverged"));
  }
};

QTEST_GUILESS_MAIN(TrainTest)
#include "test_train.moc"
