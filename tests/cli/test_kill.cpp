// SIGKILL at random moments: `gesso-cli generate --batch-count N` leaves only complete PNG files (each decodes and
// carries its request; what a kill interrupts stays a hidden .NAME.tmp-XXXXXX file), finished batches are kept, and a
// full disk while saving (GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES) keeps the PNGs already written.
// GESSO_KILLS sets the number of generation kills (default 3; scripts/kill.sh: 50).
#include "gesso/error.h"
#include "gesso/image/image_io.h"
#include "gesso/pipeline/output.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <cstdlib>
#include <random>

namespace {

struct FolderCheck {
  int pngs = 0;
  int hidden_temporaries = 0;
  QStringList problems;
};

// Every *.png must decode and hold the request that made it; anything else must be a hidden temporary file.
FolderCheck checkOutputFolder(const QString& folder) {
  FolderCheck check;
  const QDir dir(folder);
  for (const QFileInfo& entry : dir.entryInfoList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot)) {
    const QString name = entry.fileName();
    if (name.endsWith(".png")) {
      try {
        const gesso::image::Image image = gesso::image::readImage(entry.filePath().toStdString());
        const gesso::pipeline::GenerateRequest request = gesso::pipeline::requestFromPng(entry.filePath().toStdString());
        if (image.width != 64 || image.height != 64 || request.prompt != "a kill test") {
          check.problems << name + ": wrong size or request";
        }
        ++check.pngs;
      } catch (const gesso::GessoError& error) {
        check.problems << name + ": " + error.what();
      }
    } else if (name.startsWith(".") && name.contains(".tmp-")) {
      ++check.hidden_temporaries;
    } else {
      check.problems << name + ": not an image";
    }
  }
  return check;
}

}  // namespace

class KillTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_;
  QString tokenizer_;

  QStringList generateArguments(const QString& output, int batch_count) const {
    return {"generate", "--model", model_, "--tokenizer", tokenizer_, "--prompt", "a kill test", "--steps", "2",
            "--width", "64", "--height", "64", "--seed", "9", "--batch-count", QString::number(batch_count),
            "--output", output};
  }

 private slots:
  void initTestCase() {
    tokenizer_ = QString::fromStdString(gesso::test::sharedTokenizerPath());
    model_ = dir_.filePath("tiny.safetensors");
    gesso::test::writeTinyCheckpoint(model_.toStdString(), gesso::test::tinySd1Config());
  }

  void generationSurvivesKills() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const int kills = gesso::test::countFromEnv("GESSO_KILLS", 3);
    const int batch_count = 4;
    const QString output = dir_.filePath("generate");

    // One undisturbed run: its duration spans the kill moments, and it writes batch_count images.
    QElapsedTimer timer;
    timer.start();
    QProcess full;
    full.start(gesso::test::cliPath(), generateArguments(output, batch_count));
    QVERIFY(full.waitForFinished(300000));
    QCOMPARE(full.exitCode(), 0);
    const qint64 full_ms = timer.elapsed();
    QCOMPARE(checkOutputFolder(output).pngs, batch_count);

    std::mt19937 random(7);
    std::uniform_int_distribution<qint64> moment(0, full_ms);
    int killed_running = 0;
    int previous_pngs = batch_count;
    for (int i = 0; i < kills; ++i) {
      QProcess process;
      process.start(gesso::test::cliPath(), generateArguments(output, batch_count));
      QVERIFY(process.waitForStarted());
      QThread::msleep(static_cast<unsigned long>(moment(random)));
      if (process.state() == QProcess::Running) ++killed_running;
      process.kill();  // SIGKILL
      QVERIFY(process.waitForFinished(30000));
      const FolderCheck check = checkOutputFolder(output);
      QVERIFY2(check.problems.isEmpty(), qPrintable(check.problems.join("\n")));
      QVERIFY(check.pngs >= previous_pngs);
      previous_pngs = check.pngs;
      if ((i + 1) % 10 == 0) qInfo("%d kills: %d complete PNGs, no broken file", i + 1, check.pngs);
    }
    const FolderCheck check = checkOutputFolder(output);
    qInfo("%d SIGKILLs at random moments of a %lld ms run (%d while running): %d complete PNGs (%d from killed runs), "
          "%d hidden temporary files, 0 broken files", kills, static_cast<long long>(full_ms), killed_running, check.pngs,
          check.pngs - batch_count, check.hidden_temporaries);
  }

  // Regression: a 12-digit numbered file in the output folder made the file numbering throw std::out_of_range.
  void hugeNumberedNameIsIgnored() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const QString output = dir_.filePath("huge_number");
    QVERIFY(QDir().mkpath(output));
    QFile placeholder(output + "/123456789012-1.png");
    QVERIFY(placeholder.open(QIODevice::WriteOnly));
    placeholder.close();
    QProcess process;
    process.start(gesso::test::cliPath(), generateArguments(output, 1));
    QVERIFY(process.waitForFinished(300000));
    QVERIFY2(process.exitCode() == 0, qPrintable(QString::fromLocal8Bit(process.readAllStandardError())));
    QVERIFY(QFile::exists(output + "/00000-9.png"));
  }

  // A full disk while saving the second image: the run fails with the cause, the first image stays complete, and the
  // partial second one is gone.
  void fullDiskKeepsWrittenImages() {
    GESSO_REQUIRE_IMAGE_IO();
    if (tokenizer_.isEmpty()) QSKIP("../shared/data/clip is absent");
    const QString probe = dir_.filePath("probe");
    QProcess one;
    one.start(gesso::test::cliPath(), generateArguments(probe, 1));
    QVERIFY(one.waitForFinished(300000));
    QCOMPARE(one.exitCode(), 0);
    const qint64 png_bytes = QDir(probe).entryInfoList({"*.png"}).value(0).size();
    QVERIFY(png_bytes > 0);

    const QString output = dir_.filePath("full_disk");
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES", QString::number(png_bytes + png_bytes / 2));
    process.setProcessEnvironment(environment);
    process.start(gesso::test::cliPath(), generateArguments(output, 3));
    QVERIFY(process.waitForFinished(300000));
    const QString errors = QString::fromLocal8Bit(process.readAllStandardError());
    qInfo("exit %d: %s", process.exitCode(), qPrintable(errors.trimmed().right(200)));
    QVERIFY(process.exitCode() != 0);
    QVERIFY2(errors.contains("No space left on device"), qPrintable(errors));
    const FolderCheck check = checkOutputFolder(output);
    QVERIFY2(check.problems.isEmpty(), qPrintable(check.problems.join("\n")));
    QCOMPARE(check.pngs, 1);
    QCOMPARE(check.hidden_temporaries, 0);  // the failed write removed its temporary file
  }
};

QTEST_GUILESS_MAIN(KillTest)
#include "test_kill.moc"
