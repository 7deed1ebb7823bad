#!/usr/bin/env bash
# Cancels generation at COUNT random moments (default 200) from another thread on a tiny random SD1 model: every
# cancel must return to idle within one network call, and resident memory must come back to its post-warm-up
# baseline. It is test_cancel (tests/engine/test_cancel.cpp, 20 cancels in the suite) with GESSO_CANCELS=COUNT.
#   scripts/cancel.sh [COUNT]        (builds test_cancel in build/; needs ../shared/data/clip)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200}
[[ -f build/build.ninja ]] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGESSO_BUILD_UI=OFF >/dev/null
cmake --build build --target test_cancel -j "${JOBS:-2}" >/dev/null
QTEST_FUNCTION_TIMEOUT=7200000 GESSO_CANCELS=$count build/tests/test_cancel -v1 2>&1 | grep -E "QINFO|PASS|FAIL|SKIP|Totals|Loc:"
exit "${PIPESTATUS[0]}"
