#!/usr/bin/env bash
# Static checks of the tree: formatting, and no upward includes between layers.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.h' '*.cc' 2>/dev/null || find src include tests bench -name '*.h' -o -name '*.cc')
clang-format --dry-run --Werror $files
# Layers, bottom up (DESIGN.md). A layer may include only layers at or below it.
layers=(base io testing format expr table index query ingest maintenance cli)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i" && return; done; echo -1; }
status=0
for dir in src/*/; do
  layer=$(basename "$dir")
  own=$(rank "$layer")
  [ "$own" -ge 0 ] || continue
  while IFS=: read -r file inc; do
    target=$(echo "$inc" | sed -E 's/.*#include "([a-z_]+)\/.*/\1/')
    r=$(rank "$target")
    if [ "$r" -gt "$own" ] && [ "$target" != "testing" ]; then
      echo "upward include: $file includes $target/ (layer $layer)"; status=1
    fi
  done < <(grep -Ho '#include "[a-z_]*/[^"]*"' "$dir"*.h "$dir"*.cc 2>/dev/null || true)
done
exit $status
