// Resident memory of this process, read from /proc (Linux): for benchmarks and memory checks.
#pragma once

#include <cstdint>

namespace gesso {

struct ProcessMemory {
  uint64_t resident_bytes = 0;       // VmRSS
  uint64_t peak_resident_bytes = 0;  // VmHWM
};

ProcessMemory processMemory();

}  // namespace gesso
