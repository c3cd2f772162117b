#!/usr/bin/env bash
# Installs what the project needs when it is missing: Debian's chromium, chromium-driver and xvfb, a virtualenv in
# .venv with the package and its dev extras. Idempotent and quiet when everything is in place.
# Sourced by scripts/demo and scripts/test; progress goes to stderr so that stdout stays the run's output.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; exit 1; fi
}

apt_missing=()
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_missing+=(chromium-driver)
command -v Xvfb >/dev/null 2>&1 || apt_missing+=(xvfb)  # --headed where there is no display
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "installing ${apt_missing[*]} (Debian packages)"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${apt_missing[@]}" >&2
fi

PY="${PYTHON:-python3}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  say "creating .venv"
  "$PY" -m venv "$ROOT/.venv" >&2
fi
stamp="$ROOT/.venv/.robots-installed"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing the robots package with its dev extras into .venv"
  log="$ROOT/.venv/install.log"
  "$ROOT/.venv/bin/python" -m pip install -q --upgrade pip >"$log" 2>&1 || true
  # pip and setuptools are chatty (deprecation notices); show their output only when the install fails.
  "$ROOT/.venv/bin/python" -m pip install -q -e "$ROOT[dev]" >>"$log" 2>&1 \
    || { cat "$log" >&2; say "installing the package failed (log: $log)"; exit 1; }
  echo "$want" > "$stamp"
fi
export SE_OFFLINE=true
