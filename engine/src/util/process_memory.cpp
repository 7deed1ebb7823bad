// See process_memory.h.
#include "gesso/util/process_memory.h"

#include <fstream>
#include <sstream>
#include <string>

namespace gesso {

ProcessMemory processMemory() {
  ProcessMemory memory;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    uint64_t kilobytes = 0;
    fields >> key >> kilobytes;
    if (key == "VmRSS:") memory.resident_bytes = kilobytes * 1024;
    if (key == "VmHWM:") memory.peak_resident_bytes = kilobytes * 1024;
  }
  return memory;
}

}  // namespace gesso
