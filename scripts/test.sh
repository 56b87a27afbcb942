#!/usr/bin/env bash
# Set up and run every test: installs dependencies, builds the `dev` preset (Debug with
# AddressSanitizer + UndefinedBehaviorSanitizer, -Werror) and runs ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
(cd tests/compat/arrow_js && npm ci --no-audit --no-fund --loglevel=error)
bash scripts/check_tree.sh
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev "$@"
