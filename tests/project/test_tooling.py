"""Tooling is part of the code (STYLE.md 14): lint and type checks run with the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ruff_finds_nothing():
    done = subprocess.run([str(BIN / "ruff"), "check", "robots", "tests", "runner.py"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing():
    """mypy over robots/ (about 15 s cold)."""
    done = subprocess.run([str(BIN / "mypy")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_bounds_the_cores_complexity_at_15():
    """McCabe 15 (ruff's C901) holds in the core; only the portal packs' parts, tests, bench and scripts are
    exempt (test_ruff_finds_nothing runs it)."""
    import tomllib

    lint = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert "C90" in lint["select"]
    assert lint["mccabe"] == {"max-complexity": 15}
    exempt = sorted(path for path, rules in lint.get("per-file-ignores", {}).items() if "C901" in rules)
    assert exempt == ["bench/**", "robots/packs/*/**", "scripts/**", "tests/**"]
