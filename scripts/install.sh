#!/usr/bin/env bash
# Installs everything Wardcast needs on a fresh Debian machine: the Debian packages
# (broker, audio tools, a font with Vietnamese glyphs) when absent, then a virtualenv
# at .venv with the package, both sides' dependency sets (controller, agent) and the
# dev tools, at the versions locked in requirements/dev.txt. Safe to run again: it skips
# what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v aplay >/dev/null 2>&1 || need+=(alsa-utils)
command -v sox >/dev/null 2>&1 || need+=(sox)
# A real stream server (Icecast) for the relay integration tests.
command -v icecast2 >/dev/null 2>&1 || [ -x /usr/bin/icecast2 ] || need+=(icecast2)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# pdftoppm: the report golden test renders each PDF page to PNG.
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# PostgreSQL's server: the integration tests run the storage layer against it too.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
# Debian's Chromium: the console's browser tests drive it through Playwright (no browser download).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "install: Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts a system-wide icecast2 on 0.0.0.0:8000 (password "hackme") where systemd
  # runs: it would take the demo's port and face the network. The tests start their own.
  if [[ " ${need[*]} " == *" icecast2 "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now icecast2 >/dev/null 2>&1 || true
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "install: creating .venv"
  "$PY" -m venv .venv
fi
# Reinstall only when the lock (or pyproject.toml, or this script) changed since the last
# install. The versions come from requirements/dev.txt, pinned with hashes by
# scripts/lock.sh (`make lock`, docs/dependencies.md): every install gets the same ones.
stamp=.venv/.wardcast-installed
lock=requirements/dev.txt
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$lock" -nt "$stamp" ] \
  || [ scripts/install.sh -nt "$stamp" ]; then
  # A dependency added to pyproject.toml without `make lock` would be missing: say so.
  if [ -x .venv/bin/uv ] && ! bash scripts/lock.sh --check >/dev/null 2>&1; then
    echo "install: $lock is older than pyproject.toml: run \`make lock\` and commit it" >&2
    exit 1
  fi
  echo "install: Python packages into .venv (from $lock)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # Every extra (controller, agent, postgres, dev): the demo and the tests need both sides.
  .venv/bin/python -m pip install -q --require-hashes -r "$lock"
  # The package itself, editable; its dependencies are all in the lock already.
  .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
