#!/usr/bin/env bash
# SIGKILLs gesso-cli at random moments and checks that no finished work is lost (tests/cli/test_kill.cpp with more
# kills): `generate --batch-count 4` on a tiny random model COUNT times (default 50) and afterwards every *.png in the
# output folder decodes and carries its request (interrupted writes stay hidden .NAME.tmp-XXXXXX files); a full disk
# during a save (GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES) keeps what was written.
#   scripts/kill.sh [COUNT]          (builds gesso-cli and test_kill in build/; needs ../shared/data/clip)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50}
[[ -f build/build.ninja ]] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGESSO_BUILD_UI=OFF >/dev/null
cmake --build build --target gesso-cli test_kill -j "${JOBS:-2}" >/dev/null
QTEST_FUNCTION_TIMEOUT=7200000 GESSO_KILLS=$count build/tests/test_kill -v1 2>&1 |
  grep -E "QINFO|PASS|FAIL|SKIP|Totals|Loc:"
exit "${PIPESTATUS[0]}"
