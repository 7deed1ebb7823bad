// Golden-tensor helpers; see golden.h.
#include "golden.h"

#include "gesso/io/safetensors.h"

#include <ATen/ATen.h>
#include <QDebug>
#include <QFileInfo>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace gesso::test {

std::string sharedDir() {
  if (const char* dir = std::getenv("GESSO_SHARED_DIR"); dir && *dir) return dir;
  return GESSO_SHARED_DIR_DEFAULT;
}

std::string goldenPath(const std::string& name) { return sharedDir() + "/golden/" + name; }

bool goldenAvailable() { return QFileInfo(QString::fromStdString(goldenPath("index.json"))).exists(); }

QString missingSharedMessage() {
  return QString("reference data not found at %1 (set GESSO_SHARED_DIR to the shared/ folder to run this test)")
      .arg(QString::fromStdString(sharedDir()));
}

std::shared_ptr<io::SafetensorsFile> openGolden(const std::string& name) {
  return io::SafetensorsFile::open(goldenPath(name));
}

at::Tensor goldenTensor(const io::SafetensorsFile& file, const std::string& name) {
  at::Tensor tensor = file.tensor(name);
  if (tensor.is_floating_point() && tensor.scalar_type() != at::kDouble) tensor = tensor.to(at::kFloat);
  return tensor.contiguous().clone();
}

static std::string shapeString(const at::Tensor& tensor) {
  std::ostringstream out;
  out << tensor.sizes();
  return out.str();
}

Comparison compareTensors(const QString& label, const at::Tensor& actual, const at::Tensor& expected, double atol,
                          double rtol) {
  Comparison result;
  if (!actual.defined() || !expected.defined() || actual.sizes() != expected.sizes()) {
    qWarning().noquote() << label << ": shape" << QString::fromStdString(actual.defined() ? shapeString(actual) : "undefined")
                         << "expected" << QString::fromStdString(expected.defined() ? shapeString(expected) : "undefined");
    return result;
  }
  result.shapes_match = true;
  const at::Tensor a = actual.detach().to(at::kCPU).to(at::kDouble);
  const at::Tensor b = expected.detach().to(at::kCPU).to(at::kDouble);
  if (a.numel() == 0) {
    result.ok = true;
    return result;
  }
  const at::Tensor diff = (a - b).abs();
  result.max_abs_diff = diff.max().item<double>();
  result.max_rel_excess = (diff - atol - rtol * b.abs()).max().item<double>();
  const bool finite = at::isfinite(a).all().item<bool>();
  result.ok = finite && result.max_rel_excess <= 0;
  qInfo().noquote() << QString("%1: maxdiff=%2 (atol %3, rtol %4)%5")
                           .arg(label)
                           .arg(result.max_abs_diff, 0, 'g', 3)
                           .arg(atol, 0, 'g', 2)
                           .arg(rtol, 0, 'g', 2)
                           .arg(finite ? "" : " NON-FINITE VALUES");
  return result;
}

QString cliPath() {
  const char* path = std::getenv("GESSO_CLI");
  return path && *path ? QString::fromLocal8Bit(path) : QString(GESSO_CLI_DEFAULT);
}

int countFromEnv(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::max(1, std::atoi(text)) : fallback;
}

}  // namespace gesso::test
