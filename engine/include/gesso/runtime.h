// Process-wide compute settings (threads, BLAS) and a description of what is in use, for logs and benchmarks.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace gesso {

struct RuntimeInfo {
  std::string torch_version;
  std::string blas;          // the BLAS library actually loaded ("OpenBLAS 0.3.21 ...", "reference BLAS", ...)
  int intra_op_threads = 1;  // LibTorch's
  int blas_threads = 0;      // OpenBLAS's own pool; 0 when unknown
  int available_cores = 1;
  bool cpu_has_native_bf16 = false;  // avx512_bf16 or amx_bf16
  bool cuda_available = false;
  int cuda_devices = 0;
};

// Sets LibTorch's intra-op threads (threads <= 0: every available core) and OpenBLAS's (blas_threads <= 0: the
// automaticBlasThreads for that count).
void configureThreads(int threads, int blas_threads = 0);
// OpenBLAS's own thread pool beside LibTorch's OpenMP one: with two cores or fewer, 1 — the two pools then fight over
// the cores (OpenBLAS's workers keep spinning after each call): measured on a 2-core machine, 2 + 2 threads made the
// bundled model's images 2.8x slower and an SD1.5 UNet forward 1.4x slower than 2 + 1. With more cores, the same count
// as LibTorch (parallel matrix products pay off there; not measured yet).
int automaticBlasThreads(int intra_op_threads, int available_cores);
RuntimeInfo runtimeInfo();

// "cpu", "cuda", "cuda:N" -> a device; throws GessoError(InvalidArgument) naming the text otherwise.
c10::Device parseDevice(const std::string& name);
// "fp32", "bf16" or "fp16" (CUDA only) -> a dtype; throws GessoError(InvalidArgument) otherwise.
c10::ScalarType parsePrecision(const std::string& precision, const c10::Device& device);
std::string describe(const RuntimeInfo& info);

}  // namespace gesso
