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
# Every *_test.cc must have become a test binary (LevelDB once lost its best test this way).
missing=0
for src in $(git ls-files '*_test.cc' 2>/dev/null || find src tests -name '*_test.cc'); do
  name=$(basename "$src" .cc)
  if [ -z "$(find build/dev -type f -name "$name" -perm -u+x -print -quit)" ]; then
    echo "not built: $src"; missing=1
  fi
done
[ "$missing" -eq 0 ] || { echo "some tests are not built"; exit 1; }
ctest --preset dev "$@"
