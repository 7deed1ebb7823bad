#!/usr/bin/env bash
# CUDA checks on a GPU machine that has PyTorch (with its LibTorch) but none of Gesso's Debian packages: builds
# gesso-cli against that LibTorch with the Debian packages unpacked into .devkit/root (no root install, no UI, no
# image IO), then compares every golden component on CUDA with the reference tensors and runs the GPU benchmarks.
# Prepare on a Debian machine first: bash scripts/gpu/prepare.sh (downloads the .debs, copies the goldens).
# Output: everything into ${OUT:-/tmp/gpu-check} (build log, check log, benchmark JSON).
# GESSO_GPU_QUICK=1 only builds (for a following script that uses build-gpu/app/gesso-cli).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
KIT=$PWD/.devkit/root
mkdir -p "$KIT"
for f in .devkit/debs/*.deb; do dpkg -x "$f" "$KIT"; done
export LD_LIBRARY_PATH=$KIT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$OUT/env.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >> "$OUT/env.txt" 2>&1

start=$(date +%s)
# -I (searched before every -isystem folder) puts the Debian fmt that spdlog was built with ahead of the newer fmt
# that PyTorch's include folder carries.
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$KIT/usr" -DICU_ROOT="$KIT/usr" -DZLIB_ROOT="$KIT/usr" -DCMAKE_CXX_FLAGS="-I$KIT/usr/include" \
  -DGESSO_WITH_IMAGE_IO=OFF -DGESSO_BUILD_UI=OFF -DGESSO_BUILD_TESTS=OFF > "$OUT/build.log" 2>&1 &&
  cmake --build build-gpu -j "$(nproc)" --target gesso-cli >> "$OUT/build.log" 2>&1
status=$?
echo "build: exit $status in $(( $(date +%s) - start )) s" | tee -a "$OUT/env.txt"
if [ $status -ne 0 ]; then grep -E "error|Error" "$OUT/build.log" | head -40; tail -30 "$OUT/build.log"; exit 1; fi

CLI=$PWD/build-gpu/app/gesso-cli
[ -n "${GESSO_GPU_QUICK:-}" ] && exit 0
python3 scripts/gpu/compare_goldens.py "$CLI" .devkit/golden 2>&1 | tee "$OUT/goldens.txt"

bench() { echo "== $*"; timeout 120 "$CLI" bench "$@" --json; }
{
  bench unet --preset sd15 --size 512 --device cuda --dtype fp32 --iterations 10 --warmup 3
  bench unet --preset sd15 --size 512 --device cuda --dtype fp16 --iterations 10 --warmup 3
  bench unet --preset sd15 --size 512 --device cuda --dtype bf16 --iterations 10 --warmup 3
  bench unet --preset sdxl --size 1024 --device cuda --dtype fp16 --iterations 5 --warmup 2
  bench sample --preset sd15 --size 512 --steps 20 --device cuda --dtype fp16
  bench train --preset sd15 --size 512 --batch 4 --device cuda --dtype bf16
  # The OpenBLAS thread rule (docs/benchmarks.md, "Threads") measured only on 2 cores: here with every core.
  for blas in 1 "$(nproc)"; do
    echo "== CPU, OpenBLAS threads $blas"
    timeout 120 "$CLI" --blas-threads "$blas" bench unet --preset sd15 --size 256 --iterations 3 --warmup 1 --json
    timeout 120 "$CLI" --blas-threads "$blas" bench generate --runs 5 --json
  done
  [ -n "${GESSO_GPU_EXTRA:-}" ] && eval "$GESSO_GPU_EXTRA"
} 2>&1 | tee "$OUT/bench.txt"
