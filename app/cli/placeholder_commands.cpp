// Commands that other files will own; registered here until they land.
#include "commands.h"

namespace gesso::cli {
void addDebugCommand(CLI::App&, CommandContext&) {}
void addBenchCommand(CLI::App&, CommandContext&) {}
}  // namespace gesso::cli
