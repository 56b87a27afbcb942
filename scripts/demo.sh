#!/usr/bin/env bash
# Set up and run the main job: installs dependencies, builds the release preset and runs
# `tessera demo` (arguments are passed through: [DIR] [--rows N] [--seconds S] [--tail-budget-ms MS]).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
exec build/release/src/cli/tessera demo "$@"
