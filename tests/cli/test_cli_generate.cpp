// gesso-cli generate / samplers as separate processes on a tiny random checkpoint: files printed in batch order,
// previews in their own folder, --from-png reproducing an image exactly, clear errors.
#include "gesso/image/image_io.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
  int exit_code = -1;
  QString output;  // stdout
  QString errors;  // stderr
};

Run runCli(const QStringList& arguments) {
  QProcess process;
  process.start(gesso::test::cliPath(), arguments);
  process.waitForFinished(120000);
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromLocal8Bit(process.readAllStandardOutput()), QString::fromLocal8Bit(process.readAllStandardError())};
}

}  // namespace

class CliGenerateTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_;
  QString tokenizer_;

 private slots:
  void initTestCase() {
    tokenizer_ = QString::fromStdString(gesso::test::sharedTokenizerPath());
    if (tokenizer_.isEmpty()) return;
    model_ = dir_.filePath("tiny.safetensors");
    gesso::test::writeTinyCheckpoint(model_.toStdString(), gesso::test::tinySd1Config());
  }

  void listsSamplers() {
    const Run run = runCli({"samplers"});
    QCOMPARE(run.exit_code, 0);
    QVERIFY2(run.output.contains("euler_ancestral") && run.output.contains("karras") && run.output.contains("DPM++ 2M"),
             qPrintable(run.output));
  }

  void generatesAndReproduces() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const QString out = dir_.filePath("out");
    const QString previews = dir_.filePath("previews");
    const Run run = runCli({"generate", "--model", model_, "--tokenizer", tokenizer_, "--prompt", "a fox", "--negative",
                            "blur", "--steps", "3", "--width", "64", "--height", "64", "--seed", "5", "--batch-count",
                            "2", "--sampler", "euler_ancestral", "--preview-every", "2", "--preview-dir", previews,
                            "--output", out});
    QVERIFY2(run.exit_code == 0, qPrintable(run.output + run.errors));
    const QStringList lines = run.output.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    QVERIFY2(lines[0].endsWith("00000-5.png") && lines[1].endsWith("00001-6.png"), qPrintable(run.output));
    QCOMPARE(QDir(out).entryList(QDir::Files).size(), 2);  // previews never among the results
    QCOMPARE(QDir(previews).entryList(QDir::Files).size(), 4);

    const QString again_dir = dir_.filePath("again");
    const Run again = runCli({"generate", "--from-png", lines[1], "--output", again_dir});
    QVERIFY2(again.exit_code == 0, qPrintable(again.output + again.errors));
    const QString reproduced = again.output.trimmed();
    QVERIFY2(reproduced.endsWith("00000-6.png"), qPrintable(again.output));
    QVERIFY(gesso::image::readImage(reproduced.toStdString()).data == gesso::image::readImage(lines[1].toStdString()).data);

    // An option on the command line overrides the stored request.
    const Run other = runCli({"generate", "--from-png", lines[1], "--seed", "7", "--output", again_dir});
    QVERIFY2(other.exit_code == 0, qPrintable(other.output + other.errors));
    QVERIFY2(other.output.trimmed().endsWith("00001-7.png"), qPrintable(other.output));
    QVERIFY(gesso::image::readImage(other.output.trimmed().toStdString()).data !=
            gesso::image::readImage(lines[1].toStdString()).data);
  }

  void comparesIntoGrid() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const QString grid = dir_.filePath("grid/grid.png");
    const Run run = runCli({"compare", "--model", model_, "--tokenizer", tokenizer_, "--prompt", "a fox", "--seed", "3",
                            "--samplers", "euler,heun", "--schedulers", "normal", "--steps", "2,3", "--width", "64",
                            "--height", "64", "--output", grid});
    QVERIFY2(run.exit_code == 0, qPrintable(run.output + run.errors));
    QCOMPARE(run.output.trimmed(), grid);
    const auto image = gesso::image::readImage(grid.toStdString());
    QCOMPARE(image.width, int64_t(128));
    QCOMPARE(image.height % 2, int64_t(0));
    const int64_t label_height = image.height / 2 - 64;  // whole 6 px text lines over each 64 px image
    QVERIFY2(label_height >= 10 && (label_height - 4) % 6 == 0, qPrintable(QString::number(label_height)));
  }

  void reportsErrors() {
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const QString out = dir_.filePath("bad");
    const Run bad_sampler = runCli({"generate", "--model", model_, "--tokenizer", tokenizer_, "--prompt", "x",
                                    "--sampler", "nope", "--output", out});
    QVERIFY(bad_sampler.exit_code != 0);
    QVERIFY2(bad_sampler.errors.contains("nope") && bad_sampler.errors.contains("euler"), qPrintable(bad_sampler.errors));
    QVERIFY(!QDir(out).exists() || QDir(out).entryList(QDir::Files).isEmpty());
    // Without --model the bundled model (resources/models/gesso-shapes, issue 6) is used.
    const Run no_model = runCli({"generate", "--prompt", "a red circle", "--width", "64", "--height", "64", "--steps", "2",
                                 "--output", dir_.filePath("bundled")});
    QCOMPARE(no_model.exit_code, 0);
    QVERIFY2(no_model.errors.contains("(bundled)"), qPrintable(no_model.errors));
    // ... at the size it is trained at when no size is given (SD's 512 would tile its 64-pixel scenes).
    const Run no_size = runCli({"generate", "--prompt", "a red circle", "--steps", "2", "--output", dir_.filePath("bundled-size")});
    QVERIFY2(no_size.exit_code == 0, qPrintable(no_size.errors));
    const auto image = gesso::image::readImage(no_size.output.trimmed().toStdString());
    QCOMPARE(image.width, int64_t(64));
    QCOMPARE(image.height, int64_t(64));
    const Run wide = runCli({"generate", "--prompt", "a red circle", "--steps", "2", "--width", "128", "--output", dir_.filePath("bundled-wide")});
    QVERIFY2(wide.exit_code == 0, qPrintable(wide.errors));
    const auto wide_image = gesso::image::readImage(wide.output.trimmed().toStdString());
    QCOMPARE(wide_image.width, int64_t(128));
    QCOMPARE(wide_image.height, int64_t(64));
  }

  // `grid`: rows are prompts, columns seeds; each cell is the image `generate` makes with that prompt and seed.
  void gridOfPromptsAndSeeds() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const QString grid_path = dir_.filePath("grid/grid.png");
    const QStringList common{"--model", model_, "--tokenizer", tokenizer_, "--steps", "2", "--width", "64", "--height", "64"};
    const Run run = runCli(QStringList{"grid", "--prompt", "a fox", "--prompt", "a red barn", "--seeds", "3,4", "--output",
                                       grid_path} + common);
    QVERIFY2(run.exit_code == 0, qPrintable(run.output + run.errors));
    const Run single = runCli(QStringList{"generate", "--prompt", "a red barn", "--seed", "4", "--output",
                                          dir_.filePath("grid-single")} + common);
    QVERIFY2(single.exit_code == 0, qPrintable(single.output + single.errors));
    const auto grid = gesso::image::readImage(grid_path.toStdString());
    const auto cell = gesso::image::readImage(single.output.trimmed().toStdString());
    QCOMPARE(grid.width, 2 * cell.width);
    const int64_t label_height = grid.height / 2 - cell.height;  // each row: a label strip over the image
    QVERIFY(label_height > 0);
    int max_diff = 0;  // bottom-right cell (prompt 2, seed 4) against the image generated alone
    for (int64_t y = 0; y < cell.height; ++y) {
      for (int64_t x = 0; x < cell.width; ++x) {
        const uint8_t* a = grid.pixel(cell.width + x, grid.height / 2 + label_height + y);
        const uint8_t* b = cell.pixel(x, y);
        for (int c = 0; c < 3; ++c) max_diff = std::max(max_diff, std::abs(int(a[c]) - int(b[c])));
      }
    }
    qInfo("grid cell vs generate alone: max pixel diff %d", max_diff);
    QCOMPARE(max_diff, 0);
    const Run empty = runCli({"grid", "--model", model_, "--output", dir_.filePath("none.png")});
    QVERIFY(empty.exit_code != 0);
    QVERIFY2(empty.errors.contains("--prompt"), qPrintable(empty.errors));
  }

  // `bench generate` times whole images of the bundled model (a smoke run here; the figures are in benchmarks.md).
  void benchGenerateReports() {
    const Run run = runCli({"bench", "generate", "--runs", "2", "--warmup", "0", "--steps", "2", "--json"});
    QCOMPARE(run.exit_code, 0);
    const auto report = nlohmann::json::parse(run.output.toStdString());
    qInfo("bench generate: %s", report.dump().c_str());
    QCOMPARE(report.at("runs").get<int>(), 2);
    QVERIFY(report.at("seconds_per_image_min").get<double>() > 0);
    QVERIFY(report.at("seconds_per_image_min").get<double>() <= report.at("seconds_per_image_median").get<double>());
    QVERIFY(report.at("model").get<std::string>().find("gesso-shapes") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(CliGenerateTest)
#include "test_cli_generate.moc"
