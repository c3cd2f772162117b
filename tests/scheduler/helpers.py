"""Helpers for the scheduler's tests: a real `robots schedule run` process, the records it leaves, and waiting
on a condition with a deadline (never a fixed sleep)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from robots.records import RunRecord, SqlStore
from robots.scheduler.state import Registry
from robots.testing.helpers import cli_env

HERE = Path(__file__).resolve().parent
FLOWS = HERE / "flows"

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float = 60, what: str = "the condition") -> T:
    """check()'s first truthy value, polled until the deadline (AssertionError after it)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)  # polling interval


def robots_cli(args: list[str], home: Path, *, env: dict[str, str] | None = None,
               timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robots.cli", *args], capture_output=True, text=True,
                          env={**cli_env(home), **(env or {})}, timeout=timeout, check=False)


class SchedulerProcess:
    """`robots schedule run FILE` in a subprocess; stderr goes to a file the test can read."""

    def __init__(self, schedule: Path, home: Path, *, env: dict[str, str] | None = None, grace: float = 30) -> None:
        self.log = home / f"scheduler-{time.monotonic_ns()}.log"
        home.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "robots.cli", "schedule", "run", str(schedule), "--grace", str(grace)],
            stdout=subprocess.DEVNULL, stderr=self._log, env={**cli_env(home), **(env or {})})
        wait_until(lambda: "scheduler started" in self.stderr or self.proc.poll() is not None, 60,
                   "the scheduler to start")
        assert self.proc.poll() is None, self.stderr

    @property
    def stderr(self) -> str:
        return self.log.read_text()

    def stop(self, timeout: float = 120) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()
        return code


def store_of(home: Path) -> SqlStore:
    return SqlStore(f"sqlite:///{home}/robots.db")


def robot_runs(home: Path, robot: str) -> list[tuple[Any, RunRecord]]:
    """(robot_runs row, run record) of the robot, oldest first."""
    store = store_of(home)
    try:
        out = []
        for row in Registry(store.engine).runs(robot):
            try:
                out.append((row, store.get(row.run_id)))
            except LookupError:  # the run's process has not written its first record yet
                pass
        return out
    finally:
        store.close()


def finished(home: Path, robot: str) -> list[RunRecord]:
    return [r for _, r in robot_runs(home, robot) if r.status != "running"]
