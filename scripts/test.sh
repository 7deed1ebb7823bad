#!/usr/bin/env bash
# The README's second command: installs the Debian packages, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j "$(nproc 2>/dev/null || echo 2)"
