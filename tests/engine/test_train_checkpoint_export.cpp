// Any training checkpoint as a usable file (Trainer::exportCheckpoint) and the compare-checkpoints grid
// (pipeline::checkpointGrid) on a tiny random SD1-style model and a tiny synthetic dataset written here.
#include "expect_error.h"
#include "gesso/image/image_io.h"
#include "gesso/io/safetensors.h"
#include "gesso/pipeline/checkpoint_grid.h"
#include "gesso/pipeline/pipeline.h"
#include "gesso/training/trainer.h"
#include "golden.h"
#include "pipeline_fixture.h"
#include "training_fixture.h"

#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

using namespace gesso;
using namespace gesso::training;
namespace fs = std::filesystem;

namespace {

at::Tensor pixels(const image::Image& image) {
  return at::from_blob(const_cast<uint8_t*>(image.data.data()), {static_cast<int64_t>(image.data.size())}, at::kByte).to(at::kDouble);
}

double maxPixelDiff(const image::Image& a, const image::Image& b) {
  if (a.width != b.width || a.height != b.height || a.data.size() != b.data.size()) return INFINITY;
  return (pixels(a) - pixels(b)).abs().max().item<double>();
}

}  // namespace

class TrainCheckpointExportTest : public QObject {
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
    config.resolution = 64;
    config.batch_size = 2;
    config.lr = 5e-3;
    config.steps = 4;
    config.save_every = 2;
    config.seed = 7;
    return config;
  }

  image::Image render(const std::string& model, const std::vector<pipeline::LoraRef>& loras, int64_t seed,
                      const std::string& prompt) const {
    pipeline::GenerateRequest request;
    request.model = model;
    request.tokenizer = tokenizer_;
    request.prompt = prompt;
    request.steps = 3;
    request.width = 64;
    request.height = 64;
    request.seed = seed;
    request.loras = loras;
    auto loaded = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(request));
    return pipeline::generate(*loaded, request).images.at(0).image;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    tokenizer_ = test::sharedTokenizerPath();
    model_ = path("tiny-sd1.safetensors");
    test::writeTinyCheckpoint(model_, test::tinySd1Config());
    data_ = path("data");
    test::writeTinyDataset(data_, test::TinyImages::Squares, 4);
  }

  void fullCheckpointExportsLikeTheFinalModel() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    GESSO_REQUIRE_IMAGE_IO();
    TrainConfig config = baseConfig("full");
    config.method = "full";
    config.ema = 0.5;  // the export must swap in the EMA weights, as the final model does
    const TrainResult run = Trainer(config).run();
    QCOMPARE(int(run.status), int(TrainStatus::Completed));
    const std::string last = run.checkpoint;
    const std::string first = (fs::path(last).parent_path() / "step-00000002").string();
    QVERIFY(fs::is_directory(first));

    const CheckpointFile exported = Trainer::exportCheckpoint(last);
    QCOMPARE(int(exported.method), int(CheckpointMethod::Full));
    QCOMPARE(exported.step, int64_t(4));
    QCOMPARE(QString::fromStdString(exported.path),
             QString::fromStdString((fs::path(config.output) / "exports" / "step-00000004.safetensors").string()));
    const double tensor_diff = test::maxFileDiff(exported.path, run.output_file);
    const double image_diff = maxPixelDiff(render(exported.path, {}, 11, "a red square, blue background"),
                                           render(run.output_file, {}, 11, "a red square, blue background"));
    qInfo("full run, checkpoint at the last step exported vs the run's model.safetensors: tensors max diff %.3g, "
          "image max pixel diff %.3g", tensor_diff, image_diff);
    QCOMPARE(tensor_diff, 0.0);
    QCOMPARE(image_diff, 0.0);

    // An earlier checkpoint is another model; exporting again reuses the file while it is newer than the checkpoint.
    const CheckpointFile earlier = Trainer::exportCheckpoint(first);
    const double earlier_diff = test::maxFileDiff(earlier.path, exported.path);
    qInfo("step 2 vs step 4 export: tensors max diff %.3g", earlier_diff);
    QVERIFY(earlier_diff > 0);
    const auto stamp = fs::last_write_time(exported.path);
    QCOMPARE(Trainer::exportCheckpoint(last).path, exported.path);
    QVERIFY(fs::last_write_time(exported.path) == stamp);

    // An explicit output is always written.
    const std::string explicit_path = path("step2.safetensors");
    CheckpointExportOptions options;
    options.output = explicit_path;
    QCOMPARE(Trainer::exportCheckpoint(first, options).path, explicit_path);
    QCOMPARE(test::maxFileDiff(explicit_path, earlier.path), 0.0);

    // Not a checkpoint: an error naming it, nothing written.
    GESSO_EXPECT_ERROR(Trainer::exportCheckpoint(data_), ErrorCode::InvalidFormat, "data");
  }

  void randomInitExportKeepsTheYaml() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    GESSO_REQUIRE_IMAGE_IO();
    // What tensor shapes cannot tell (here GroupNorm groups) must come back with the exported checkpoint.
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
      auto tiny = pipeline::LoadedModel::load(pipeline::ModelLoadOptions{model_, "", "", tokenizer_, "cpu", "fp32"});
      std::vector<std::pair<std::string, at::Tensor>> tensors;
      for (const auto& item : tiny->vae->named_parameters()) tensors.emplace_back(item.key(), item.value().detach());
      io::writeSafetensors(vae_path, tensors);
    }
    TrainConfig config = baseConfig("random");
    config.model.clear();
    config.init = "random";
    config.config = yaml;
    config.vae = vae_path;
    config.method = "full";
    config.steps = 2;
    config.save_every = 0;
    const TrainResult run = Trainer(config).run();
    QCOMPARE(int(run.status), int(TrainStatus::Completed));
    const CheckpointFile exported = Trainer::exportCheckpoint(run.checkpoint);
    QVERIFY(!exported.config.empty());
    QVERIFY(fs::is_regular_file(exported.config));
    auto loaded = pipeline::LoadedModel::load(pipeline::ModelLoadOptions{exported.path, "", "", tokenizer_, "cpu", "fp32"});
    QCOMPARE(loaded->config().unet.norm_groups, 8);
    const double diff = test::maxFileDiff(exported.path, run.output_file);
    qInfo("random-init full run: last checkpoint export vs model.safetensors tensors max diff %.3g", diff);
    QCOMPARE(diff, 0.0);
  }

  void loraWithEmaExportsTheEmaAdapters() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    GESSO_REQUIRE_IMAGE_IO();
    // The checkpoint's lora.safetensors holds the raw adapters; with EMA the run's result holds the averaged ones,
    // and so must the export.
    TrainConfig config = baseConfig("lora-ema");
    config.method = "lora";
    config.rank = 4;
    config.alpha = 4;
    config.ema = 0.5;
    const TrainResult run = Trainer(config).run();
    QCOMPARE(int(run.status), int(TrainStatus::Completed));
    const CheckpointFile exported = Trainer::exportCheckpoint(run.checkpoint);
    QCOMPARE(int(exported.method), int(CheckpointMethod::Lora));
    QVERIFY(QString::fromStdString(exported.path).endsWith("exports/step-00000004.lora.safetensors"));
    const double diff = test::maxFileDiff(exported.path, run.output_file);
    const double raw_diff = test::maxFileDiff(run.checkpoint + "/lora.safetensors", run.output_file);
    qInfo("LoRA with EMA: last checkpoint export vs lora.safetensors max diff %.3g (the checkpoint's raw adapters: %.3g)",
          diff, raw_diff);
    QCOMPARE(diff, 0.0);
    QVERIFY(raw_diff > 0);
  }

  void loraGridOfCheckpointsStrengthsPrompts() {
    if (tokenizer_.empty()) QSKIP(qPrintable(test::missingSharedMessage()));
    GESSO_REQUIRE_IMAGE_IO();
    TrainConfig config = baseConfig("lora");
    config.method = "lora";
    config.rank = 4;
    config.alpha = 4;
    const TrainResult run = Trainer(config).run();
    QCOMPARE(int(run.status), int(TrainStatus::Completed));

    pipeline::CheckpointGridRequest request;
    request.base.tokenizer = tokenizer_;
    request.base.steps = 3;
    request.base.width = 64;
    request.base.height = 64;
    request.base.seed = 21;
    request.strengths = {0.0, 1.0};
    request.prompts = {"a red square, blue background", "a green square, yellow background"};
    for (const char* step : {"step-00000002", "step-00000004"}) {
      const CheckpointFile file = Trainer::exportCheckpoint((fs::path(config.output) / "checkpoints" / step).string());
      QCOMPARE(int(file.method), int(CheckpointMethod::Lora));
      QCOMPARE(QString::fromStdString(fs::path(file.path).filename().string()), QString("lora.safetensors"));
      request.checkpoints.push_back({file.step, file.run.model, file.run.config, file.run.vae, file.path});
    }
    int reported = 0;
    pipeline::CheckpointGridCallbacks callbacks;
    callbacks.on_image = [&reported](int done, int total, const pipeline::CheckpointGridCell&) {
      ++reported;
      QCOMPARE(done, reported);
      QCOMPARE(total, 8);
    };
    const pipeline::CheckpointGridResult grid = pipeline::checkpointGrid(request, callbacks);
    QCOMPARE(reported, 8);
    QCOMPARE(grid.columns, 4);
    QCOMPARE(grid.rows, 2);
    QCOMPARE(grid.images.size(), size_t(8));
    QCOMPARE(grid.grid.width, int64_t(4 * 64));
    QVERIFY(grid.grid.height > 2 * 64);
    QCOMPARE(QString::fromStdString(grid.cells[1].label()), QString("step 2 strength 1 prompt 1"));

    // Strength 0 is the base model; each prompt has its own seed (base seed + prompt index) in every column.
    double zero_diff = 0, lora_diff = 0;
    for (size_t p = 0; p < 2; ++p) {
      const image::Image base = render(model_, {}, 21 + static_cast<int64_t>(p), request.prompts[p]);
      zero_diff = std::max({zero_diff, maxPixelDiff(grid.images[p * 4 + 0], base), maxPixelDiff(grid.images[p * 4 + 2], base)});
      lora_diff = std::max(lora_diff, maxPixelDiff(grid.images[p * 4 + 3], base));
      const image::Image with = render(model_, {{request.checkpoints[1].lora, 1.0}}, 21 + static_cast<int64_t>(p), request.prompts[p]);
      QCOMPARE(maxPixelDiff(grid.images[p * 4 + 3], with), 0.0);
    }
    qInfo("grid: strength 0 cells vs base model max pixel diff %.3g; step 4 strength 1 vs base %.3g", zero_diff, lora_diff);
    QCOMPARE(zero_diff, 0.0);
    QVERIFY(lora_diff > 0);

    // Cancelled before the first network call.
    CancelToken cancel;
    cancel.cancel();
    pipeline::CheckpointGridCallbacks cancelled;
    cancelled.cancel = &cancel;
    GESSO_EXPECT_ERROR(pipeline::checkpointGrid(request, cancelled), ErrorCode::Cancelled, "cancel");
    request.prompts.clear();
    GESSO_EXPECT_ERROR(pipeline::checkpointGridCells(request), ErrorCode::InvalidArgument, "prompt");
  }
};

QTEST_GUILESS_MAIN(TrainCheckpointExportTest)
#include "test_train_checkpoint_export.moc"
