// Thread configuration: LibTorch's intra-op count as asked, OpenBLAS's pool kept to one thread on machines with two
// cores or fewer (where it would compete with LibTorch's for the cores) and otherwise matched to LibTorch's; an
// explicit OpenBLAS count wins. Device and precision names are parsed or refused by name.
#include "expect_error.h"
#include "gesso/runtime.h"

#include <ATen/Parallel.h>
#include <QtTest>

using namespace gesso;

class RuntimeTest : public QObject {
  Q_OBJECT

 private slots:
  void automaticBlasThreadsFollowTheCoreCount() {
    QCOMPARE(automaticBlasThreads(1, 1), 1);
    QCOMPARE(automaticBlasThreads(2, 2), 1);
    QCOMPARE(automaticBlasThreads(1, 2), 1);
    QCOMPARE(automaticBlasThreads(4, 4), 4);
    QCOMPARE(automaticBlasThreads(16, 32), 16);
    QCOMPARE(automaticBlasThreads(0, 8), 1);
  }

  void configureSetsBothPools() {
    const RuntimeInfo before = runtimeInfo();
    if (before.blas.rfind("OpenBLAS", 0) != 0) QSKIP("OpenBLAS is not the loaded BLAS: its thread count cannot be read");
    configureThreads(0);
    RuntimeInfo info = runtimeInfo();
    qInfo("automatic: %s", describe(info).c_str());
    QCOMPARE(info.intra_op_threads, info.available_cores);
    QCOMPARE(info.blas_threads, automaticBlasThreads(info.available_cores, info.available_cores));
    configureThreads(1, 2);
    info = runtimeInfo();
    QCOMPARE(info.intra_op_threads, 1);
    QCOMPARE(info.blas_threads, 2);
    configureThreads(0);
  }

  void namesAreParsedOrRefused() {
    QCOMPARE(parseDevice("cpu").type(), c10::DeviceType::CPU);
    QCOMPARE(parsePrecision("fp32", c10::Device("cpu")), c10::ScalarType::Float);
    GESSO_EXPECT_ERROR(parseDevice("tpu"), ErrorCode::InvalidArgument, "tpu");
  }
};

QTEST_GUILESS_MAIN(RuntimeTest)
#include "test_runtime.moc"
