#!/usr/bin/env bash
# Installs every Debian package Gesso builds and tests with, and selects OpenBLAS as the system BLAS
# (Debian's LibTorch otherwise runs on the ~30x slower reference BLAS).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  cmake g++ ninja-build pkg-config ccache git
  libtorch-dev libopenblas-dev libopenblas0-pthread
  libspdlog-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev zlib1g-dev libicu-dev
  libopenimageio-dev
  qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libqcustomplot-dev
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# LibTorch links libblas.so.3; point it at OpenBLAS explicitly.
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
openblas="/usr/lib/${multiarch}/openblas-pthread/libblas.so.3"
if [ -e "$openblas" ]; then
  $SUDO update-alternatives --set "libblas.so.3-${multiarch}" "$openblas" >/dev/null
  $SUDO update-alternatives --set "liblapack.so.3-${multiarch}" \
    "/usr/lib/${multiarch}/openblas-pthread/liblapack.so.3" >/dev/null 2>&1 || true
fi
