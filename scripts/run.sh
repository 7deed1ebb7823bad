#!/usr/bin/env bash
# The README's first command: installs the Debian packages, builds, and opens the desktop app `gesso` with the
# bundled model (resources/models/gesso-shapes, trained by Gesso itself) selected.
#
#   bash scripts/run.sh              # the desktop app (falls back to --headless when there is no display)
#   bash scripts/run.sh --headless   # no window: renders example prompts with gesso-cli into a folder, prints paths
#       [--output DIR]               #   where the images go (default: ./gesso-output)
#       [--prompt "TEXT"]            #   render this prompt instead of the examples (repeatable)
set -euo pipefail
cd "$(dirname "$0")/.."

headless=0
output="gesso-output"
prompts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --headless) headless=1 ;;
    --output) output="$2"; shift ;;
    --prompt) prompts+=("$2"); shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/install-deps.sh
bash scripts/build.sh

model="resources/models/gesso-shapes/gesso-shapes.safetensors"
app=""
for candidate in build/app/gesso/gesso build/app/gesso build/bin/gesso; do
  if [ -x "$candidate" ] && [ ! -d "$candidate" ]; then app="$candidate"; break; fi
done

if [ "$headless" -eq 0 ]; then
  if [ -n "$app" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    echo "Opening $app with the bundled model ($model)"
    exec "$app"
  fi
  if [ -z "$app" ]; then
    echo "run.sh: the desktop app was not built; rendering with gesso-cli instead (--headless)" >&2
  else
    echo "run.sh: no display (\$DISPLAY / \$WAYLAND_DISPLAY unset); rendering with gesso-cli instead (--headless)" >&2
  fi
fi

if [ "${#prompts[@]}" -eq 0 ]; then
  prompts=(
    "a large red circle on the left, blue background"
    "a small yellow star at the top, purple background"
    "a large white ring in the centre, green background"
    "a large blue triangle on the right and a small orange square at the bottom, white background"
  )
fi
mkdir -p "$output"
seed=1
for prompt in "${prompts[@]}"; do
  # generate prints the path of each image it writes; --model defaults to the bundled model. One thread: its
  # tensors are too small to split (0.3 s per image on one thread, about 1 s on two; docs/benchmarks.md).
  ./build/app/gesso-cli -q generate --prompt "$prompt" --width 64 --height 64 --steps 20 --cfg 5 --seed "$seed" \
    --output "$output"
  seed=$((seed + 1))
done
