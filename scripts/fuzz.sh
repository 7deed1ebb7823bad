#!/usr/bin/env bash
# Builds one libFuzzer target (clang, GESSO_FUZZ=ON, in build-fuzz/) and runs it for SECONDS from its seed corpus.
#   scripts/fuzz.sh TARGET SECONDS        TARGET: one of the targets below, or all
# New inputs go to build-fuzz/corpus/TARGET (the seeds in fuzz/corpus/TARGET are only read); crashes, leaks and
# timeouts go to build-fuzz/artifacts/TARGET/. Exit status is non-zero when the fuzzer found something.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(pickle ckpt ckpt_reader safetensors png_text prompt tokenizer config_yaml config_json request_json infotext)
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS (TARGET: ${targets[*]} | all)}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
if [[ $target == all ]]; then
  for each in "${targets[@]}"; do "$0" "$each" "$seconds"; done
  exit 0
fi
[[ " ${targets[*]} " == *" $target "* ]] || { echo "unknown target $target (${targets[*]})" >&2; exit 2; }

compiler=${CXX_FUZZ:-$(command -v clang++-14 || command -v clang++)}
if [[ ! -f build-fuzz/build.ninja ]]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGESSO_BUILD_UI=OFF -DGESSO_BUILD_TESTS=OFF -DGESSO_FUZZ=ON >/dev/null
fi
cmake --build build-fuzz --target "fuzz_$target" -j "${JOBS:-2}" >/dev/null

work=build-fuzz/corpus/$target
artifacts=build-fuzz/artifacts/$target
mkdir -p "$work" "$artifacts"
echo "fuzzing $target for ${seconds}s (seeds: fuzz/corpus/$target, new inputs: $work)"
# -rss_limit_mb bounds every input's memory; -timeout flags any input that takes over 10 s.
"build-fuzz/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
  -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "fuzz/corpus/$target" 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
exit "$status"
