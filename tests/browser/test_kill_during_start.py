"""`kill -9` of a runner while its browser starts leaves no process behind once the next run's orphan sweep has run
(docs/CONTRACTS.md C5): chromedriver's pid is recorded the moment it is spawned, before it is allowed to run, so the
sweep knows it (and, through its process group, the Chrome it starts) whenever the runner dies.

Each try starts a runner-like process that launches Chromium the way a run does (`start_browser` with the run's
folder, after `write_owner`), kills it with SIGKILL after a delay spread over the first 400 ms of the start (denser
where chromedriver is being spawned and waited for, its first ~50 ms here), runs the sweep that `robots run` runs
first, and looks for any process the try started. Processes are told apart by a marker in their environment
(chromedriver and Chrome inherit the runner's), never by name; a zombie counts as ended.

The issue asks for 100 tries; each costs about a second here (mostly the child's Python start), so the test runs
30 and bench/kill_during_start.py runs 100 (ROBOTS_KILL_TRIES sets the count of either)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from robots.engine import Runner

pytestmark = pytest.mark.browser

TRIES = int(os.environ.get("ROBOTS_KILL_TRIES", "30"))
#: the kill comes this long after the start began, at most
WINDOW = 0.4

CHILD = """
import sys
from pathlib import Path
from robots.browser import processes
from robots.browser.drivers import BrowserOptions, start_browser
run_dir = Path(sys.argv[1])
run_dir.mkdir(parents=True)
processes.write_owner(run_dir)
print("ready", flush=True)
sys.stdin.readline()
start_browser(BrowserOptions(), run_dir)
print("started", flush=True)
sys.stdin.readline()
"""

MARK = "ROBOTS_KILL_TEST_MARK"


def marked(mark: str) -> list[tuple[int, str]]:
    """(pid, command) of the live (not zombie) processes whose environment carries `mark`."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone, or not ours
            continue
        if needle in environ.split(b"\0") and stat[stat.rindex(")") + 2] != "Z":
            found.append((int(entry), cmd.strip()))
    return found


def left_after(mark: str, timeout: float = 10.0) -> list[tuple[int, str]]:
    """What is still running of the try `mark` once it has had `timeout` seconds to end."""
    deadline = time.monotonic() + timeout
    while (alive := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.05)  # back-off: polling /proc for the processes to end
    return alive


def delays(n: int) -> list[float]:
    """`n` kill delays over [0, WINDOW], quadratically denser near 0 (where chromedriver starts)."""
    return [WINDOW * (i / max(n - 1, 1)) ** 2 for i in range(n)]


def one_try(home: Path, delay: float) -> list[tuple[int, str]]:
    mark = uuid.uuid4().hex
    env = {**os.environ, "SE_OFFLINE": "true", MARK: mark}
    run_dir = home / "runs" / mark
    with subprocess.Popen([sys.executable, "-c", CHILD, str(run_dir)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None and proc.stdin is not None
            assert proc.stdout.readline() == "ready\n"
            proc.stdin.write("go\n")
            proc.stdin.flush()
            time.sleep(delay)  # the kill's moment in the start
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    Runner(home=home).sweep()  # what the next `robots run` does first
    return left_after(mark)


def run_tries(home: Path, n: int) -> dict[str, list[tuple[int, str]]]:
    """The tries that left processes: {"try i (kill after d ms)": [(pid, command), ...]}."""
    left = {}
    for i, delay in enumerate(delays(n)):
        alive = one_try(home, delay)
        if alive:
            left[f"try {i} (kill after {delay * 1000:.0f} ms)"] = alive
            for pid, _ in alive:  # do not let one failed try leave its processes to the next
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    return left


@pytest.mark.long
def test_kill_during_browser_start_leaves_nothing_after_the_sweep(tmp_path):
    assert run_tries(tmp_path, TRIES) == {}
