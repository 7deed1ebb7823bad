#!/usr/bin/env bash
# The README's first command: installs the Debian packages, builds, and runs the main job.
# Until the desktop app and its bundled model land, the main job is gesso-cli: it shows its commands and, where
# the reference data in ../shared is present, describes a tiny reference UNet checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/app/gesso-cli --help
shared="${GESSO_SHARED_DIR:-../shared}"
if [ -f "$shared/golden/unet_tiny.safetensors" ]; then
  ./build/app/gesso-cli info "$shared/golden/unet_tiny.safetensors" --config "$shared/golden/unet_tiny.yaml"
fi
