#!/usr/bin/env bash
# Install the Debian packages Tessera builds, tests and benchmarks with. Idempotent.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  libgtest-dev libgmock-dev libbenchmark-dev libhnswlib-dev libfaiss-dev
  flatbuffers-compiler libflatbuffers-dev libroaring-dev nlohmann-json3-dev zlib1g-dev
  libcurl4-openssl-dev libexpat1-dev  # S3 object storage: HTTP + SigV4, XML
  ceph-mon ceph-osd radosgw ceph-common  # a real S3 server for tests (scripts/rgw.sh)
  dataset-fashion-mnist
  prometheus  # promtool, which checks `tessera metrics` output in a test
)
# Node.js + npm (for the apache-arrow interop test): some machines have a Node.js build that
# bundles npm and conflicts with Debian's npm package; install Debian's only when missing.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
