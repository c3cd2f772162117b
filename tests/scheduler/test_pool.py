"""The browser pool (docs/CONTRACTS.md C5): ROBOTS_MAX_BROWSERS slots shared by every process of one robots home,
freed by the kernel when a holder dies. (Runs queueing on it in real Chrome: test_scheduled_browser.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from robots.errors import Canceled, ConfigError
from robots.pool import BrowserPool, max_browsers

HOLD = "import sys; from robots.pool import BrowserPool; s = BrowserPool(sys.argv[1], 2).acquire(); " \
       "print(s.number, flush=True); sys.stdin.read()"


def test_slots_are_shared_across_processes_and_freed_when_a_holder_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "0\n"
        pool = BrowserPool(tmp_path, 2)
        mine = pool.try_acquire()
        assert mine is not None and mine.number == 1
        assert pool.try_acquire() is None
        assert pool.in_use() == 2
        with pytest.raises(TimeoutError, match=r"^no browser slot became free within 0.3 s$"):
            pool.acquire(timeout=0.3)
    finally:
        holder.kill()  # no release: the kernel drops the lock of a dead process
        holder.communicate()  # reaps it and closes the pipes
    again = pool.acquire(timeout=30)
    assert again.number == 0
    again.release()
    mine.release()
    assert pool.in_use() == 0


def test_a_run_waiting_for_a_slot_can_be_stopped(tmp_path: Path) -> None:
    pool = BrowserPool(tmp_path, 1)
    with pool.slot():
        def canceled() -> None:
            raise Canceled("canceled by robots runs cancel")

        with pytest.raises(Canceled, match="canceled by robots runs cancel"):
            pool.acquire(check=canceled)
    assert pool.in_use() == 0


def test_the_setting() -> None:
    assert max_browsers({}) == 2
    assert max_browsers({"ROBOTS_MAX_BROWSERS": "5"}) == 5
    for bad in ("0", "two", "-1"):
        with pytest.raises(ConfigError, match=rf"^ROBOTS_MAX_BROWSERS must be a whole number of 1 or more, "
                                              rf"got '{bad}'$"):
            max_browsers({"ROBOTS_MAX_BROWSERS": bad})
