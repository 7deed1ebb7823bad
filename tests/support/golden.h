// Helpers for golden-tensor tests: find ../shared, load reference tensors, compare and print max differences.
#pragma once

#include <ATen/core/Tensor.h>
#include <QString>

#include <memory>
#include <string>

namespace gesso::io {
class SafetensorsFile;
}

namespace gesso::test {

// $GESSO_SHARED_DIR, or the `shared` folder beside the source tree.
std::string sharedDir();
// sharedDir()/golden/<name>.
std::string goldenPath(const std::string& name);
bool goldenAvailable();
// The message a test prints when it skips for lack of ../shared.
QString missingSharedMessage();

std::shared_ptr<io::SafetensorsFile> openGolden(const std::string& name);
// A golden tensor as float32 (or its own integer type), contiguous, on the CPU.
at::Tensor goldenTensor(const io::SafetensorsFile& file, const std::string& name);

struct Comparison {
  bool shapes_match = false;
  double max_abs_diff = 0;
  double max_rel_excess = 0;  // max(|a-b| - atol - rtol*|b|); <= 0 means within tolerance
  bool ok = false;
};

// Compares with |a - b| <= atol + rtol*|b| elementwise; prints "<label>: maxdiff=... (atol, rtol)" with qInfo.
Comparison compareTensors(const QString& label, const at::Tensor& actual, const at::Tensor& expected,
                          double atol = 1e-4, double rtol = 1e-4);

// The path of the gesso-cli binary under test: $GESSO_CLI, else the one this build made.
QString cliPath();

// The count in the environment variable `name` (at least 1; scripts raise the suite's quick defaults), else `fallback`.
int countFromEnv(const char* name, int fallback);

}  // namespace gesso::test

// Skips the current test function when ../shared is absent.
#define GESSO_REQUIRE_SHARED()                                                        \
  do {                                                                                \
    if (!gesso::test::goldenAvailable()) QSKIP(qPrintable(gesso::test::missingSharedMessage())); \
  } while (0)

// Fails the current test function unless the tensors agree; the max difference is always printed.
#define GESSO_COMPARE_TENSORS(label, actual, expected, atol, rtol)                                     \
  do {                                                                                               \
    const auto gesso_comparison = gesso::test::compareTensors(label, actual, expected, atol, rtol);   \
    QVERIFY2(gesso_comparison.shapes_match, qPrintable(QString(label) + ": shapes differ"));          \
    QVERIFY2(gesso_comparison.ok, qPrintable(QString(label) + ": max abs diff " +                    \
                                             QString::number(gesso_comparison.max_abs_diff, 'g', 3))); \
  } while (0)

// Skips the current test function in a build without image codecs (GESSO_WITH_IMAGE_IO=OFF).
#ifdef GESSO_WITH_IMAGE_IO
#define GESSO_REQUIRE_IMAGE_IO() \
  do {                           \
  } while (0)
#else
#define GESSO_REQUIRE_IMAGE_IO() QSKIP("this build has no image codecs (GESSO_WITH_IMAGE_IO=OFF)")
#endif
