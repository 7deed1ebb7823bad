#!/usr/bin/env bash
# SIGKILLs gesso-cli at random moments and checks that no finished work is lost.
#   scripts/kill.sh [COUNT]        generate (tests/cli/test_kill.cpp with more kills): `generate --batch-count 4` on a
#                                  tiny random model COUNT times (default 50); afterwards every *.png in the output
#                                  folder decodes and carries its request (interrupted writes stay hidden
#                                  .NAME.tmp-XXXXXX files); a full disk during a save keeps what was written.
#   scripts/kill.sh train [COUNT]  train (tests/cli/test_kill_train.cpp with more kills): `train --save-every 1 --keep 2`
#                                  on a tiny model, SIGKILLed COUNT times (default 50) at random moments of a 3-step
#                                  run's length; after each kill the newest checkpoint verifies, none is lost, and
#                                  `train --resume RUN_DIR` continues (a fresh start while none is complete); the run
#                                  then completes with 2 verified checkpoints. A full disk during a checkpoint save
#                                  (GESSO_FAULT_INJECT_WRITE_FAIL_AFTER_BYTES) keeps the previous checkpoint.
#   scripts/kill.sh app [COUNT]    the desktop app (tests/ui/test_kill_app.cpp with more kills): `gesso --resume-queue`
#                                  offscreen on a queue of 2*COUNT+4 bundled-model generations, SIGKILLed COUNT times
#                                  (default 50) at random moments after an image lands; after each kill every PNG is
#                                  complete, queue.json and history.json load and no job is lost; a last start
#                                  finishes the queue with every seed in the history.
# generate and train need ../shared/data/clip (app: the bundled model). Run at low priority on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
test=test_kill
variable=GESSO_KILLS
ui=OFF
if [[ "${1:-}" == train ]]; then
  test=test_kill_train
  variable=GESSO_TRAIN_KILLS
  shift
elif [[ "${1:-}" == app ]]; then
  test=test_kill_app
  variable=GESSO_APP_KILLS
  ui=ON
  shift
fi
count=${1:-50}
[[ -f build/build.ninja ]] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGESSO_BUILD_UI=$ui >/dev/null
[[ -f build/tests/$test ]] || cmake -S . -B build >/dev/null  # a new test file needs a re-glob
cmake --build build --target gesso-cli "$test" -j "${JOBS:-2}" >/dev/null
env QTEST_FUNCTION_TIMEOUT=7200000 QT_QPA_PLATFORM=offscreen "$variable=$count" "build/tests/$test" -v1 2>&1 |
  grep -E "QINFO|PASS|FAIL|SKIP|Totals|Loc:"
exit "${PIPESTATUS[0]}"
