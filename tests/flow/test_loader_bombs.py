"""Hostile YAML through every loader (flows, vars files, schedules, selector catalogs, portal profiles), each
through the real CLI in its own process: a recursive alias, a "billion laughs" file, a file far over the size
limit, nesting too deep and too many nodes are input errors (exit 2) naming the file and line, with no traceback,
and the process never grows past 200 MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from robots.testing.helpers import cli_env

PEAK_MB = 200


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float


# `python -m robots.cli ARGS`, which writes its own peak memory (VmHWM, in kB) to $PEAK_FILE as it exits. Not the
# child's rusage: its ru_maxrss starts at this process's size when it was forked, and a pytest worker that has run
# many tests is hundreds of MB; the high-water mark of the program the child execs starts from nothing.
WITH_PEAK = """\
import atexit, os, runpy, sys

def peak():
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as f:
        f.write(kb)

atexit.register(peak)
sys.argv[0] = "robots"
runpy.run_module("robots.cli", run_name="__main__", alter_sys=True)
"""


def robots(home: Path, *args: str, timeout: float = 60) -> Done:
    """`python -m robots.cli ARGS` with its own home, and its own peak memory."""
    out, err, peak = home / "stdout.txt", home / "stderr.txt", home / "peak-kb.txt"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen([sys.executable, "-c", WITH_PEAK, *args], stdout=o, stderr=e,
                                env={**cli_env(home), "PEAK_FILE": str(peak)}, cwd=home)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            proc.returncode = -9
            pytest.fail(f"robots {' '.join(args)} did not finish in {timeout} s")
        time.sleep(0.05)  # back-off: polling the child for its exit
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert peak.exists(), f"robots {' '.join(args)} ended without reaching its exit handlers: {err.read_text()}"
    return Done(proc.returncode, out.read_text(), err.read_text(), int(peak.read_text()) / 1024)


RECURSIVE = "name: t\nsteps: &a\n  - log: x\n  - *a\n"
LAUGHS = "name: t\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9 if prev else ['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)) + "steps:\n  - log: x\n"
DEEP = "name: t\nsteps: " + "[" * 100 + "]" * 100 + "\n"
WIDE = "name: t\nsteps:\n" + "- log: x\n" * 40_000
HUGE_STEPS = 5_000_000  # "name: t\nsteps:\n" and 11 bytes a step: 55 MB

# (text, line, column, message after "KIND ") for each bomb; the KIND is the loader's ("a flow file", ...).
BOMBS = {
    "recursive alias": (RECURSIVE, 4, 5, "YAML alias '*a' repeats a node that contains it (a recursive alias); "
                                         "{kind} may not have one"),
    "billion laughs": (LAUGHS, 6, 8, 'YAML aliases expand to more than 10,000 nodes (a "billion laughs" file?); '
                                     "{kind} may expand aliases to at most 10,000 nodes"),
    "too deep": (DEEP, 2, 71, "YAML nested more than 64 levels deep; {kind} may nest at most 64 levels"),
    "too many nodes": (WIDE, 33_334, 8, "more than 100,000 YAML nodes (keys, values and items); "
                                        "{kind} may have at most 100,000"),
}


def _write(path: Path, bomb: str) -> None:
    if bomb == "too large":
        with path.open("w") as f:
            f.write("name: t\nsteps:\n")
            f.write("  - log: x\n" * HUGE_STEPS)
    else:
        path.write_text(BOMBS[bomb][0])


def _expected(bomb: str, shown: Path, kind: str) -> str:
    if bomb == "too large":
        size = len("name: t\nsteps:\n") + 11 * HUGE_STEPS
        return f"{shown}: the file is {size:,} bytes; {kind} may be at most 1,000,000 bytes (1 MB)"
    _, line, col, message = BOMBS[bomb]
    return f"{shown}:{line}:{col}: " + message.format(kind=kind)


ALL = [*BOMBS, "too large"]
OK_FLOW = "name: ok\nvars: {q: ''}\nsteps:\n  - log: 'q is {{ vars.q }}'\n"


def _check(done: Done, expected: str) -> None:
    assert "Traceback" not in done.stderr
    assert (done.returncode, done.stdout, done.stderr) == (2, "", expected)
    assert done.peak_mb < PEAK_MB, f"the process grew to {done.peak_mb:.0f} MB"


@pytest.mark.parametrize("bomb", ALL)
def test_flow_bombs_in_validate(tmp_path, bomb):
    flow = tmp_path / "flow.yaml"
    _write(flow, bomb)
    done = robots(tmp_path, "validate", str(flow))
    _check(done, _expected(bomb, flow, "a flow file") + "\n1 of 1 flow invalid\n")


@pytest.mark.parametrize("bomb", ALL)
def test_flow_bombs_in_run(tmp_path, bomb):
    flow = tmp_path / "flow.yaml"
    _write(flow, bomb)
    done = robots(tmp_path, "run", str(flow))
    _check(done, _expected(bomb, flow, "a flow file") + "\n1 problem found; nothing was run.\n")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("bomb", ALL)
def test_vars_file_bombs(tmp_path, bomb):
    flow, given = tmp_path / "flow.yaml", tmp_path / "vars.yaml"
    flow.write_text(OK_FLOW)
    _write(given, bomb)
    done = robots(tmp_path, "run", str(flow), "--vars-file", str(given))
    _check(done, _expected(bomb, given, "a vars file") + "\n1 problem found; nothing was run.\n")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("bomb", ALL)
def test_schedule_bombs(tmp_path, bomb):
    schedule = tmp_path / "robots.yaml"
    _write(schedule, bomb)
    done = robots(tmp_path, "schedule", "validate", str(schedule))
    _check(done, _expected(bomb, schedule, "a schedule file") + "\n1 problem found\n")


@pytest.mark.parametrize("bomb", ALL)
def test_selector_catalog_bombs(tmp_path, bomb):
    flow = tmp_path / "flow.yaml"
    flow.write_text("name: ok\nselectors: catalog\nsteps:\n  - log: x\n")
    (tmp_path / "catalog").mkdir()
    page = tmp_path / "catalog" / "page.yaml"
    _write(page, bomb)
    done = robots(tmp_path, "validate", str(flow))
    _check(done, _expected(bomb, page, "a selector catalog") + "\n1 of 1 flow invalid\n")


@pytest.mark.parametrize("bomb", ALL)
def test_portal_profile_bombs(tmp_path, bomb):
    flow = tmp_path / "flow.yaml"
    flow.write_text("name: ok\nportal: bomb\nsteps:\n  - log: x\n")
    (tmp_path / "portals").mkdir()
    profile = tmp_path / "portals" / "bomb.yaml"
    _write(profile, bomb)
    done = robots(tmp_path, "run", str(flow))
    _check(done, _expected(bomb, profile, "a portal profile") + "\n1 problem found; nothing was run.\n")
    assert not (tmp_path / "runs").exists()


def test_merge_keys_work_in_flows_and_vars_files(tmp_path):
    """`<<: *anchor` merges a mapping (keys written beside it win), in flows as in vars files."""
    flow, given = tmp_path / "flow.yaml", tmp_path / "vars.yaml"
    flow.write_text("name: merged\n"
                    "vars:\n"
                    "  q: &base {default: from-base, description: a var}\n"
                    "  r: {<<: *base, default: own}\n"
                    "  s: {<<: [{description: first}, *base]}\n"
                    "outputs: [q, r, s]\n"
                    "steps:\n"
                    "  - set_output: {q: '{{ vars.q }}', r: '{{ vars.r }}', s: '{{ vars.s }}'}\n")
    done = robots(tmp_path, "validate", str(flow))
    assert (done.returncode, done.stderr) == (0, "1 flow valid\n")
    given.write_text("<<: {r: from-file, q: merged}\nq: given\n")
    done = robots(tmp_path, "run", str(flow), "--vars-file", str(given), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"q": "given", "r": "from-file", "s": "from-base"}
