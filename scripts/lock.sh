#!/usr/bin/env bash
# Re-resolves the pinned dependency sets after pyproject.toml changed (`make lock`), and
# exports the three requirement files scripts/install.sh and scripts/install-pi.sh
# install from, each pinned with sha256 hashes (docs/dependencies.md):
#
#   uv.lock                    every set, resolved together (uv's own format, all platforms)
#   requirements/agent.txt     the base set + [agent]: a Pi (scripts/install-pi.sh)
#   requirements/controller.txt  the base set + [controller,postgres]: a controller
#   requirements/dev.txt       every extra: `make install` (controller, agent, tests)
#
# Versions already locked are kept unless asked:
#   scripts/lock.sh                    new or changed dependencies only (keeps the rest)
#   scripts/lock.sh --upgrade          everything to the newest allowed version
#   scripts/lock.sh --upgrade-package fastapi   one package (and what it needs)
#   scripts/lock.sh --check            fail if uv.lock or the exports are stale (offline)
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-.venv/bin/uv}
if [ ! -x "$UV" ]; then
  if command -v uv >/dev/null 2>&1; then
    UV=$(command -v uv)
  else
    # uv is in the dev set; a machine not yet installed gets it from PyPI first.
    [ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
    .venv/bin/python -m pip install -q 'uv>=0.9'
  fi
fi
# Resolve with what is installed, never by downloading an interpreter.
export UV_PYTHON_DOWNLOADS=never

export_sets() {
  local out=$1
  mkdir -p "$out"
  "$UV" export -q --frozen --no-emit-project --no-dev --extra agent \
    --no-header -o "$out/agent.txt"
  "$UV" export -q --frozen --no-emit-project --no-dev --extra controller --extra postgres \
    --no-header -o "$out/controller.txt"
  "$UV" export -q --frozen --no-emit-project --no-dev --all-extras \
    --no-header -o "$out/dev.txt"
}

if [ "${1:-}" = "--check" ]; then
  "$UV" lock -q --check --offline
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  export_sets "$tmp"
  for set in agent controller dev; do
    if ! cmp -s "$tmp/$set.txt" "requirements/$set.txt"; then
      echo "lock: requirements/$set.txt is not what uv.lock exports: run scripts/lock.sh" >&2
      exit 1
    fi
  done
  echo "lock: uv.lock and requirements/*.txt match pyproject.toml"
  exit 0
fi

"$UV" lock -q "$@"
export_sets requirements
echo "lock: uv.lock and requirements/{agent,controller,dev}.txt written; commit them" \
  "with pyproject.toml"
