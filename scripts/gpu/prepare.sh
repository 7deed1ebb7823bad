#!/usr/bin/env bash
# Prepares .devkit/ (ignored by git) for scripts/gpu/check.sh: the Debian packages Gesso builds against, as .debs
# to unpack without root on the GPU machine, and a copy of the golden tensors the CUDA comparison reads.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx "/.devkit/" .git/info/exclude 2>/dev/null || echo "/.devkit/" >> .git/info/exclude
mkdir -p .devkit/debs .devkit/golden
(cd .devkit/debs && apt-get download libcli11-dev libfmt-dev libfmt9 libicu-dev libicu72 libspdlog-dev \
  libspdlog1.10 libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev zlib1g-dev)
SHARED=${GESSO_SHARED_DIR:-../shared}
cp "$SHARED"/golden/{unet_tiny,unet_tiny_linear,unet_tiny_xl,vae_tiny}{.safetensors,.yaml,_io.safetensors} .devkit/golden/
cp "$SHARED"/golden/text_{clip,openclip}_tiny{.safetensors,_io.safetensors} "$SHARED"/golden/text_clip_tiny.config.json \
  "$SHARED"/golden/text_openclip_tiny.open_clip.json .devkit/golden/
du -sh .devkit
