// Forks and compare's per-cell records on a tiny random SD1 checkpoint: the schedule splice, a fork with the parent's
// own settings reproducing the parent (deterministic samplers), a fork with another prompt or sampler differing, and
// compare cells' step latents, step-tagged previews and timings.
#include "gesso/error.h"
#include "gesso/pipeline/compare.h"
#include "gesso/pipeline/fork.h"
#include "gesso/pipeline/pipeline.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <set>

using namespace gesso;
using gesso::pipeline::GenerateRequest;

namespace {

std::vector<double> values(const at::Tensor& tensor) {
  const at::Tensor t = tensor.to(at::kDouble).contiguous();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

ErrorCode codeOf(const std::function<void()>& body) {
  try {
    body();
  } catch (const GessoError& error) {
    return error.error().code;
  }
  return ErrorCode::Internal;
}

at::Tensor imageTensor(const image::Image& image) {
  return at::tensor(std::vector<int64_t>(image.data.begin(), image.data.end())).to(at::kDouble);
}

}  // namespace

class ForkTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string tokenizer_;
  std::string model_path_;
  std::shared_ptr<pipeline::LoadedModel> model_;

  GenerateRequest baseRequest() const {
    GenerateRequest request;
    request.model = model_path_;
    request.tokenizer = tokenizer_;
    request.prompt = "a red fox in snow";
    request.negative_prompt = "blurry";
    request.width = 64;
    request.height = 64;
    request.seed = 1234;
    request.cfg_scale = 5.0;
    return request;
  }

 private slots:
  void initTestCase() {
    tokenizer_ = test::sharedTokenizerPath();
    if (tokenizer_.empty()) return;
    model_path_ = dir_.filePath("tiny_sd1.safetensors").toStdString();
    test::writeTinyCheckpoint(model_path_, test::tinySd1Config());
    model_ = pipeline::LoadedModel::load(pipeline::ModelLoadOptions::fromRequest(baseRequest()));
  }

  // The splice, against hand-computed expectations on a small schedule.
  void entrySplicesAtTheLatentsSigma() {
    const at::Tensor schedule = at::tensor(std::vector<double>{10, 5, 2, 1, 0}).to(at::kFloat);
    auto check = [&](double sigma, std::vector<double> expected, int start_step) {
      const pipeline::ForkEntry entry = pipeline::forkEntry(schedule, sigma);
      const std::vector<double> got = values(entry.sigmas);
      QCOMPARE(int(got.size()), int(expected.size()));
      for (size_t i = 0; i < got.size(); ++i) QVERIFY2(std::abs(got[i] - expected[i]) <= 1e-6 * (1 + expected[i]), qPrintable(QString::number(sigma)));
      QCOMPARE(entry.start_step, start_step);
    };
    check(5, {5, 2, 1, 0}, 1);                 // on a schedule sigma: the rest of the schedule
    check(5 * (1 + 1e-7), {5 * (1 + 1e-7), 2, 1, 0}, 1);  // equal within 1e-5: no empty step
    check(3, {3, 2, 1, 0}, 1);                 // between 5 and 2: a short first step down to 2
    check(12, {12, 10, 5, 2, 1, 0}, 0);        // above the schedule: one extra step into it
    check(0.5, {0.5, 0}, 3);                   // below the last positive sigma: one step to 0
    QCOMPARE(codeOf([&] { pipeline::forkEntry(schedule, 0.0); }), ErrorCode::InvalidArgument);
    QCOMPARE(codeOf([&] { pipeline::forkEntry(schedule, std::nan("")); }), ErrorCode::InvalidArgument);
  }

  // Forking a cell at step k with the cell's own settings continues exactly on the parent's path.
  void sameSettingsReproduce_data() {
    QTest::addColumn<QString>("sampler");
    QTest::addColumn<QString>("scheduler");
    QTest::addColumn<int>("steps");
    QTest::addColumn<int>("k");
    QTest::newRow("euler normal k=2/5") << "euler" << "normal" << 5 << 2;
    QTest::newRow("euler karras k=0/4") << "euler" << "karras" << 4 << 0;
    QTest::newRow("heun karras k=1/3") << "heun" << "karras" << 3 << 1;
    QTest::newRow("dpm_2 exponential k=3/4") << "dpm_2" << "exponential" << 4 << 3;
    QTest::newRow("ddim ddim_uniform k=2/4") << "ddim" << "ddim_uniform" << 4 << 2;
  }
  void sameSettingsReproduce() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    QFETCH(QString, sampler);
    QFETCH(QString, scheduler);
    QFETCH(int, steps);
    QFETCH(int, k);
    const GenerateRequest base = baseRequest();
    const auto cells = pipeline::compareCells({sampler.toStdString()}, {scheduler.toStdString()}, {steps}, {5.0});
    const pipeline::CompareResult parent = pipeline::compare(*model_, base, cells);
    QCOMPARE(int(parent.step_latents.at(0).size()), steps);
    const pipeline::StepLatent& from = parent.step_latents[0].at(k);
    const pipeline::ForkResult fork = pipeline::fork(*model_, from, pipeline::cellRequest(parent.base, cells[0]));
    QCOMPARE(fork.entry.start_step, k);
    QCOMPARE(int(fork.step_latents.size()), steps - k);
    for (int i = 0; i < steps - k; ++i) {
      const pipeline::StepLatent& mine = fork.step_latents[i];
      const pipeline::StepLatent& theirs = parent.step_latents[0][k + i];
      QCOMPARE(mine.step, theirs.step);
      QCOMPARE(mine.sigma, theirs.sigma);
      GESSO_COMPARE_TENSORS(QString("x at step %1").arg(mine.step), mine.x, theirs.x, 1e-5, 0);
      GESSO_COMPARE_TENSORS(QString("denoised at step %1").arg(mine.step), mine.denoised, theirs.denoised, 1e-5, 0);
    }
    // The decoded images agree to within one level of 255 (rounding of latents equal to 1e-5).
    GESSO_COMPARE_TENSORS("final image", imageTensor(fork.image), imageTensor(parent.images[0]), 1.0, 0);
  }

  // Another prompt at step k: starts from the parent's latent, then departs from it.
  void anotherPromptDiffers() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const GenerateRequest base = baseRequest();
    const auto cells = pipeline::compareCells({"euler"}, {"normal"}, {5}, {5.0});
    const pipeline::CompareResult parent = pipeline::compare(*model_, base, cells);
    GenerateRequest other = pipeline::cellRequest(parent.base, cells[0]);
    other.prompt = "a blue whale under the sea";
    const pipeline::ForkResult fork = pipeline::fork(*model_, parent.step_latents[0][2], other);
    GESSO_COMPARE_TENSORS("fork's start latent", fork.step_latents[0].x, parent.step_latents[0][2].x, 0, 0);
    const double latent_diff = (fork.step_latents.back().denoised - parent.step_latents[0].back().denoised).abs().max().item<double>();
    const double image_diff = (imageTensor(fork.image) - imageTensor(parent.images[0])).abs().max().item<double>();
    qInfo("another prompt: last estimate max diff %.4g, image max diff %.0f levels", latent_diff, image_diff);
    QVERIFY(latent_diff > 1e-3);
    QVERIFY(image_diff > 0);
  }

  // Another sampler and scheduler with more steps: entered at the parent's sigma, then every schedule sigma below it.
  void anotherSamplerEntersItsSchedule() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    const GenerateRequest base = baseRequest();
    const auto cells = pipeline::compareCells({"euler"}, {"normal"}, {4}, {5.0});
    const pipeline::CompareResult parent = pipeline::compare(*model_, base, cells);
    const pipeline::StepLatent& from = parent.step_latents[0][1];
    GenerateRequest other = pipeline::cellRequest(parent.base, cells[0]);
    other.sampler = "dpmpp_2m";
    other.scheduler = "karras";
    other.steps = 10;
    const pipeline::ForkResult fork = pipeline::fork(*model_, from, other);
    const std::vector<double> schedule = values(pipeline::requestSigmas(*model_, other));
    std::vector<double> expected{from.sigma};
    for (double s : schedule) if (s < from.sigma) expected.push_back(s);
    const std::vector<double> got = values(fork.entry.sigmas);
    QCOMPARE(int(got.size()), int(expected.size()));
    for (size_t i = 0; i < got.size(); ++i) QVERIFY(std::abs(got[i] - expected[i]) <= 1e-6 * (1 + expected[i]));
    QCOMPARE(int(fork.step_latents.size()), int(got.size()) - 1);
    QCOMPARE(fork.step_latents[0].step, fork.entry.start_step);
    QVERIFY(schedule[fork.entry.start_step] >= from.sigma && from.sigma > schedule[fork.entry.start_step + 1]);
    QCOMPARE(fork.image.width, int64_t(64));
    QVERIFY(fork.ms > 0);
    // A fork of a fork (from its first step) works too.
    const pipeline::ForkResult again = pipeline::fork(*model_, fork.step_latents[1], other);
    QCOMPARE(again.step_latents.front().step, fork.step_latents[1].step);
    // Bad starts are refused with a clear error.
    pipeline::StepLatent finished = from;
    finished.sigma = 0;
    QCOMPARE(codeOf([&] { pipeline::fork(*model_, finished, other); }), ErrorCode::InvalidArgument);
    GenerateRequest wrong_size = other;
    wrong_size.width = 128;
    QCOMPARE(codeOf([&] { pipeline::fork(*model_, from, wrong_size); }), ErrorCode::ShapeMismatch);
  }

  // Compare cells: step-tagged previews for every step, step latents at the schedule's sigmas, per-cell times.
  void compareCellsCarryStepsPreviewsAndTimes() {
    if (tokenizer_.empty()) QSKIP("../shared/data/clip is absent");
    GenerateRequest base = baseRequest();
    base.preview_every = 1;
    const auto cells = pipeline::compareCells({"euler", "heun", "dpmpp_2m"}, {"karras"}, {3}, {5.0});
    std::map<int, std::vector<int>> preview_steps;
    bool preview_sizes_ok = true;
    pipeline::CompareCallbacks callbacks;
    callbacks.on_preview = [&](int cell, const pipeline::PreviewEvent& event) {
      preview_steps[cell].push_back(event.step);
      preview_sizes_ok = preview_sizes_ok && event.images.size() == 1 && event.images[0].width == 8 && event.images[0].height == 8;
    };
    const pipeline::CompareResult result = pipeline::compare(*model_, base, cells, callbacks);
    QCOMPARE(int(result.images.size()), 3);
    QVERIFY(preview_sizes_ok);
    for (int cell = 0; cell < 3; ++cell) {
      QCOMPARE(preview_steps[cell], (std::vector<int>{0, 1, 2}));
      QVERIFY2(result.cell_ms[cell] > 0, qPrintable(QString::number(result.cell_ms[cell])));
      qInfo("cell %d (%s): %.1f ms", cell, cells[cell].label().c_str(), result.cell_ms[cell]);
      const std::vector<double> sigmas = values(pipeline::requestSigmas(*model_, pipeline::cellRequest(result.base, cells[cell])));
      QCOMPARE(int(result.step_latents[cell].size()), 3);
      for (int k = 0; k < 3; ++k) {
        QCOMPARE(result.step_latents[cell][k].step, k);
        QCOMPARE(result.step_latents[cell][k].sigma, sigmas[k]);
      }
    }
    // The grid of the previews at step 1 with timed labels, as the UI exports it.
    std::vector<image::Image> at_step;
    std::vector<std::string> labels;
    for (int cell = 0; cell < 3; ++cell) {
      at_step.push_back(pipeline::latentPreviewImages(result.step_latents[cell][1].denoised, ModelFamily::SD1).at(0));
      labels.push_back(cells[cell].label() + " step 2");
    }
    const image::Image grid = pipeline::compareGrid(cells, at_step, labels);
    QCOMPARE(grid.width, int64_t(3 * 8));
    // Without step latents kept, none are.
    pipeline::CompareOptions options;
    options.keep_step_latents = pipeline::KeepStepLatents::No;
    const pipeline::CompareResult lean = pipeline::compare(*model_, baseRequest(), cells, {}, options);
    QVERIFY(lean.step_latents[0].empty());
    QVERIFY(lean.images[0].data == result.images[0].data);
  }
};

QTEST_GUILESS_MAIN(ForkTest)
#include "test_fork.moc"
