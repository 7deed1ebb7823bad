// Thread configuration and runtime description; see runtime.h.
#include "gesso/runtime.h"

#include "gesso/error.h"

#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <dlfcn.h>
#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace gesso {

namespace {

// OpenBLAS's control functions, when the libblas.so.3 that LibTorch loaded is OpenBLAS (Debian's alternatives).
using SetThreads = void (*)(int);
using GetThreads = int (*)();
using GetConfig = char* (*)();

template <class F>
F openblasSymbol(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_DEFAULT, name));
}

int availableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

bool cpuHasNativeBf16() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find(" avx512_bf16") != std::string::npos || line.find(" amx_bf16") != std::string::npos;
    }
  }
  return false;
}

// The file that provides the BLAS symbols, from the process's mappings.
std::string loadedBlasLibrary() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("libblas") != std::string::npos || path.find("libopenblas") != std::string::npos ||
        path.find("libmkl") != std::string::npos) {
      return path;
    }
  }
  return {};
}

}  // namespace

int automaticBlasThreads(int intra_op_threads, int available_cores) {
  return available_cores <= 2 ? 1 : std::max(1, intra_op_threads);
}

void configureThreads(int threads, int blas_threads) {
  const int count = threads > 0 ? threads : availableCores();
  at::set_num_threads(count);
  const int blas = blas_threads > 0 ? blas_threads : automaticBlasThreads(count, availableCores());
  if (auto set = openblasSymbol<SetThreads>("openblas_set_num_threads")) set(blas);
}

RuntimeInfo runtimeInfo() {
  RuntimeInfo info;
  info.torch_version = TORCH_VERSION;
  info.intra_op_threads = at::get_num_threads();
  info.available_cores = availableCores();
  info.cpu_has_native_bf16 = cpuHasNativeBf16();
  if (auto get_config = openblasSymbol<GetConfig>("openblas_get_config")) {
    info.blas = std::string("OpenBLAS (") + get_config() + ")";
    if (auto get_threads = openblasSymbol<GetThreads>("openblas_get_num_threads")) info.blas_threads = get_threads();
  } else {
    const std::string library = loadedBlasLibrary();
    info.blas = library.empty() ? "unknown" : "reference or other BLAS: " + library;
  }
  info.cuda_available = at::hasCUDA();
  info.cuda_devices = info.cuda_available ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  return info;
}

std::string describe(const RuntimeInfo& info) {
  std::ostringstream out;
  out << "LibTorch " << info.torch_version << ", BLAS: " << info.blas << ", threads: " << info.intra_op_threads
      << " (BLAS " << info.blas_threads << ", cores " << info.available_cores << ")"
      << ", CPU bf16: " << (info.cpu_has_native_bf16 ? "native" : "emulated")
      << ", CUDA devices: " << info.cuda_devices;
  return out.str();
}

c10::ScalarType parsePrecision(const std::string& precision, const c10::Device& device) {
  if (precision == "fp32") return c10::kFloat;
  if (precision == "bf16") return c10::kBFloat16;
  if (precision == "fp16") {
    if (!device.is_cuda()) fail(ErrorCode::InvalidArgument, "precision fp16 needs a CUDA device; use fp32 or bf16 on the CPU");
    return c10::kHalf;
  }
  fail(ErrorCode::InvalidArgument, "precision must be fp32, bf16 or fp16, not '" + precision + "'");
}

c10::Device parseDevice(const std::string& name) {
  try {
    return c10::Device(name);
  } catch (const std::exception&) {
    fail(ErrorCode::InvalidArgument, "unknown device '" + name + "' (expected cpu or cuda[:N])");
  }
}

}  // namespace gesso
