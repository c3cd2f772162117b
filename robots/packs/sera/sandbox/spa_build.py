"""The sandbox's single-page front end (`spa/`, Vue 3 + Vuetify 3): where its compiled build is cached, and the build.

The build is cached like the data snapshot (`data.py`): under the sandbox cache (`ROBOTS_SANDBOX_CACHE`, else
`~/.cache/robots/sandbox`), in a folder named by the hash of the app's sources and its package-lock.json, so an edited
source is never served from a stale build. scripts/setup.sh builds it (`python -P
robots/packs/sera/sandbox/spa_build.py`) with npm: `npm ci` and `vite build` in a temporary copy of `spa/` (the package
folder stays clean and may be read-only), then the output is renamed into place, so a concurrent reader never sees
half a build.

Versions are exact in spa/package.json (and locked): Vite 5 and @vitejs/plugin-vue 5 because they run on Node 18,
the Node that Debian 12's `npm` package brings on a fresh machine (Vite 6+ needs Node 20.19); Vuetify 3 and
vue-router 4 are the releases that pair with them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE_DIR = Path(__file__).with_name("spa")
BUILD_COMMAND = "scripts/setup.sh"
# What the hash covers: the app's own files (never node_modules or a stray dist/).
_STALE_AFTER_S = 7 * 86400
_SOURCE_GLOBS = ("package.json", "package-lock.json", "index.html", "vite.config.js", "src/**/*")


def source_files(source: Path = SOURCE_DIR) -> list[Path]:
    found = {p for pattern in _SOURCE_GLOBS for p in source.glob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: p.relative_to(source).as_posix())


def source_hash(source: Path = SOURCE_DIR) -> str:
    """The hash of the app's sources and lockfile (paths and contents): the build's cache key."""
    digest = hashlib.sha256()
    for path in source_files(source):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def build_dir(cache: Path | None = None, source: Path = SOURCE_DIR) -> Path:
    """Where the build of the current sources lives (it may not exist yet)."""
    return (cache if cache is not None else cache_dir()) / f"spa-{source_hash(source)}"


def cache_dir() -> Path:
    """The sandbox cache (ROBOTS_SANDBOX_CACHE, else ~/.cache/robots/sandbox), for the data snapshots (data.py) and
    the app's build. Defined here, not in data.py: setup.sh runs this file on every call, and data.py brings Faker."""
    from robots.settings import settings

    configured = settings().sandbox_cache
    return configured if configured else Path.home() / ".cache" / "robots" / "sandbox"


def missing_build_message(path: Path) -> str:
    return (f"The single-page app is not built: {path / 'index.html'} does not exist. Build it with "
            f"{BUILD_COMMAND} (it runs npm ci and vite build in {SOURCE_DIR}).")  # fmt: skip


def ensure_build(cache: Path | None = None, source: Path = SOURCE_DIR) -> Path:
    """The build of the current sources, made first with npm if missing. npm's output is shown only when it fails
    (RuntimeError, naming the command and its output)."""
    target = build_dir(cache, source)
    if (target / "index.html").is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("building the sandbox's single-page app needs npm (Debian: apt-get install npm)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sera-spa-build-") as tmp:
        work = Path(tmp) / "spa"
        for path in source_files(source):
            copy = work / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
        for command in ([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], [npm, "run", "--silent", "build"]):
            done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"building the sandbox's single-page app failed: {' '.join(command[1:])} in "
                                   f"{work} exited with {done.returncode}:\n{done.stdout}{done.stderr}")  # fmt: skip
        staged = Path(tempfile.mkdtemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent))
        try:
            shutil.copytree(work / "dist", staged, dirs_exist_ok=True)
            try:
                os.replace(staged, target)
            except OSError:  # another builder got there first: its build is of the same sources
                if not (target / "index.html").is_file():
                    raise
        finally:
            shutil.rmtree(staged, ignore_errors=True)
    now = time.time()
    for stale in target.parent.glob("spa-*"):  # builds of other sources, untouched for a week (other checkouts)
        if stale != target and stale.is_dir() and now - stale.stat().st_mtime > _STALE_AFTER_S:
            shutil.rmtree(stale, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    """`python robots/packs/sera/sandbox/spa_build.py`: build when missing; quiet on success (scripts/setup.sh)."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        print("usage: python robots/packs/sera/sandbox/spa_build.py   (builds the single-page app when missing)",
              file=sys.stderr)  # fmt: skip
        return 2
    target = build_dir()
    if (target / "index.html").is_file():
        return 0
    print(f"setup: building the sandbox's single-page app (npm ci, vite build) into {target}", file=sys.stderr)
    try:
        ensure_build()
    except RuntimeError as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
