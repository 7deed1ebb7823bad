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
#include "training_fixture.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QTemporaryDir>
#include <QtTest>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

using namespace gesso;
using namespace gesso::training;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
    test::writeTinyDataset(data_, test::TinyImages::Squares, 4);
    test::writeTinyDataset(data_ + "/sub", test::TinyImages::Squares, 4, 4);
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
    const at::Tensor x = at::randn({2, 4, 32, 32}, generator);
    const at::Tensor t = at::tensor({10.0f, 900.0f});
    const at::Tensor context = at::randn({2, 77, 64}, generator);
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
    QVERIFY2(checkpoint_peak < plain_peak, "gradient checkpointing did not lower the peak memory");
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
      const double diff = test::maxFileDiff(a + "/" + file, b + "/" + file);
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

  void loraTrainsResumesAndChangesOutput() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    GESSO_REQUIRE_IMAGE_IO();
    TrainConfig config = baseConfig("lora-straight");
    config.method = "lora";
    config.rank = 4;
    config.alpha = 4;
    config.conv_rank = 2;
    config.lr = 5e-3;
    config.steps = 6;
    std::vector<double> losses;
    TrainCallbacks callbacks;
    callbacks.on_step = [&losses](const StepMetrics& m) { losses.push_back(m.loss); };
    const TrainResult straight = Trainer(config).run(callbacks);
    QCOMPARE(int(straight.status), int(TrainStatus::Completed));
    QVERIFY(!straight.output_file.empty());

    // Interrupted after 3 steps and resumed: the same adapters, bit for bit.
    config.output = path("lora-interrupted");
    CancelToken cancel;
    TrainCallbacks stop;
    stop.cancel = &cancel;
    stop.on_step = [&cancel](const StepMetrics& m) {
      if (m.step == 3) cancel.cancel();
    };
    QCOMPARE(int(Trainer(config).run(stop).status), int(TrainStatus::Cancelled));
    TrainConfig resume;
    resume.resume = config.output;
    const TrainResult resumed = Trainer(resume).run();
    QCOMPARE(int(resumed.status), int(TrainStatus::Completed));
    const double diff = test::maxFileDiff(straight.checkpoint + "/trained.safetensors", resumed.checkpoint + "/trained.safetensors");
    qInfo("LoRA resume after 3 of 6 steps: trained adapters max diff %.3g", diff);
    QCOMPARE(diff, 0.0);
    QCOMPARE(test::maxFileDiff(straight.output_file, resumed.output_file), 0.0);

    // The kohya file: names and metadata.
    const auto file = io::SafetensorsFile::open(straight.output_file);
    QVERIFY(file->contains("lora_unet_input_blocks_1_1_proj_in.lora_down.weight") ||
            std::any_of(file->tensors().begin(), file->tensors().end(),
                        [](const io::TensorInfo& t) { return t.name.rfind("lora_unet_", 0) == 0; }));
    QCOMPARE(file->metadata().at("ss_steps"), std::string("6"));

    // Generation with the trained LoRA: strength 0 is the base model exactly; the change grows with the strength
    // (the merged weight is W + s·ΔW, so for small ΔW the image difference is nearly linear in s).
    pipeline::ModelLoadOptions options;
    options.model = model_;
    options.tokenizer = tokenizer_;
    auto model = pipeline::LoadedModel::load(options);
    auto render = [&](double strength, bool with_lora) {
      pipeline::GenerateRequest request;
      request.model = model_;
      request.tokenizer = tokenizer_;
      request.prompt = "a red square, blue background";
      request.steps = 3;
      request.width = 64;
      request.height = 64;
      request.seed = 9;
      if (with_lora) request.loras = {{straight.output_file, strength}};
      const auto image = pipeline::generate(*model, request).images.at(0).image;
      return at::from_blob(const_cast<uint8_t*>(image.data.data()), {static_cast<int64_t>(image.data.size())}, at::kByte).to(at::kDouble);
    };
    const at::Tensor base = render(0, false);
    const double at_zero = (render(0.0, true) - base).abs().max().item<double>();
    const double at_half = (render(0.5, true) - base).abs().mean().item<double>();
    const double at_one = (render(1.0, true) - base).abs().mean().item<double>();
    qInfo("trained LoRA: strength 0 max pixel diff %.3g; mean pixel diff at 0.5: %.4f, at 1: %.4f (ratio %.2f)", at_zero,
          at_half, at_one, at_one / at_half);
    QCOMPARE(at_zero, 0.0);
    QVERIFY(at_half > 0);
    QVERIFY(at_one > 1.3 * at_half && at_one < 3.0 * at_half);
  }

  void randomInitFromYaml() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    // A model described by an LDM YAML (UNet) and a CLIP text config beside it (NAME.config.json), a separately
    // trained VAE (here: random), trained from random weights; the result loads through the checkpoint loader.
    const std::string yaml = path("tiny-random.yaml");
    std::ofstream(yaml) << "model:\n  params:\n    parameterization: eps\n    unet_config:\n      params:\n"
                           "        in_channels: 4\n        out_channels: 4\n        model_channels: 32\n"
                           "        attention_resolutions: [2, 1]\n        num_res_blocks: 1\n        channel_mult: [1, 2]\n"
                           "        num_heads: 8\n        use_spatial_transformer: true\n        transformer_depth: 1\n"
                           "        context_dim: 64\n        use_linear_in_transformer: false\n"
                           "        norm_num_groups: 8\n";
    std::ofstream(path("tiny-random.config.json"))
        << R"({"vocab_size": 49408, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 1,)"
        << R"( "intermediate_size": 256, "max_position_embeddings": 77, "hidden_act": "quick_gelu"})";
    const std::string vae_path = path("tiny-vae.safetensors");
    {
      models::AutoencoderKL vae(test::tinyVaeConfig(), at::TensorOptions().dtype(at::kFloat));
      nn::fillRandomWeights(*vae, 4);
      std::vector<std::pair<std::string, at::Tensor>> tensors;
      for (const auto& item : vae->named_parameters()) tensors.emplace_back(item.key(), item.value().detach());
      io::writeSafetensors(vae_path, tensors);
    }
    TrainConfig config = baseConfig("random-init");
    config.model.clear();
    config.init = "random";
    config.config = yaml;
    config.vae = vae_path;
    config.train_text_encoder = true;
    config.steps = 3;
    config.save_precision = "fp32";
    const TrainResult result = Trainer(config).run();
    QCOMPARE(int(result.status), int(TrainStatus::Completed));
    pipeline::ModelLoadOptions options;
    options.model = result.output_file;
    options.tokenizer = tokenizer_;
    auto model = pipeline::LoadedModel::load(options);
    QCOMPARE(model->config().unet.model_channels, 32);
    QCOMPARE(model->config().text_encoders.at(0).width, 64);
    // What shapes cannot tell comes back from model.yaml, the --config copied beside the result.
    QVERIFY(fs::exists(fs::path(result.output_file).replace_extension(".yaml")));
    QCOMPARE(model->config().unet.norm_groups, 8);
    // fp32 export: the reloaded text encoder equals the trained one exactly.
    const auto trained = io::SafetensorsFile::open(result.checkpoint + "/trained.safetensors");
    const size_t unet_count = model->unet->parameters().size();
    const auto text = model->text_encoders[0]->parameters();
    double max_diff = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      max_diff = std::max(max_diff, (text[i] - trained->tensor(trained->tensors()[unet_count + i].name)).abs().max().item<double>());
    }
    qInfo("random init: reloaded text encoder vs trained max diff %.3g", max_diff);
    QCOMPARE(max_diff, 0.0);

    config.output = path("random-bad");
    config.vae.clear();
    GESSO_EXPECT_ERROR(Trainer(config).run(), ErrorCode::InvalidArgument, "vae");
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
