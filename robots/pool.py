"""Browser capacity (docs/CONTRACTS.md C5): at most `ROBOTS_MAX_BROWSERS` (default 2) Chromes at once per robots home,
across processes (CLI runs, the scheduler's runs, API workers).

The pool is N slot files under `<home>/pool/`; a run holds one by an exclusive `flock` from just before its
browser starts until the browser has quit. The kernel drops the lock when the process dies, so a killed
runner never leaks a slot. A run that finds every slot taken waits (queues) for one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TypeVar

log = logging.getLogger("robots.pool")

MAX_BROWSERS_ENV = "ROBOTS_MAX_BROWSERS"
DEFAULT_MAX_BROWSERS = 2
WAIT_POLL_S = 0.1

T = TypeVar("T")


def max_browsers(environ: Mapping[str, str] | None = None) -> int:
    """The pool's size from `ROBOTS_MAX_BROWSERS` (a whole number >= 1), else 2."""
    from robots.settings import settings

    return settings(environ).max_browsers


def flock_held(path: Path) -> bool:
    """Whether some process holds a flock on `path`, read from /proc/locks (trying to take the lock to find out
    would, for that instant, turn away a run that wants it)."""
    try:
        inode = path.stat().st_ino
    except FileNotFoundError:
        return False
    with open("/proc/locks") as locks:
        # "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF" (a waiting request has "->" before FLOCK)
        return any("FLOCK" in line and f":{inode} " in line for line in locks)


class Slot:
    """One held slot; `release()` frees it (idempotent)."""

    def __init__(self, number: int, handle: IO[str]) -> None:
        self.number = number
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class BrowserPool:
    """The slots under `<home>/pool/`. `size` defaults to `max_browsers()`."""

    def __init__(self, home: Path | str, size: int | None = None) -> None:
        self.folder = Path(home) / "pool"
        self.size = size if size is not None else max_browsers()

    def try_acquire(self) -> Slot | None:
        """A free slot now, or None."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for n in range(self.size):
            handle = open(self.folder / f"slot-{n}.lock", "a+")  # noqa: SIM115 - held until release()
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            return Slot(n, handle)
        return None

    def acquire(self, check: Callable[[], None] | None = None, timeout: float | None = None) -> Slot:
        """A slot, waiting for one as long as it takes (or `timeout` seconds: TimeoutError). `check` is called
        while waiting and may raise to stop waiting (a canceled or timed-out run)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        announced = False
        while True:
            slot = self.try_acquire()
            if slot is not None:
                if announced:
                    log.info("got browser slot %d of %d", slot.number + 1, self.size)
                return slot
            if check is not None:
                check()
            if not announced:
                log.info("all %d browser slots are in use (%s); waiting for one", self.size, MAX_BROWSERS_ENV)
                announced = True
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"no browser slot became free within {timeout:g} s")
            time.sleep(WAIT_POLL_S)  # back-off: polling for a slot another process frees

    def in_use(self) -> int:
        """How many slots are held right now (by any process)."""
        return sum(flock_held(self.folder / f"slot-{n}.lock") for n in range(self.size))

    @contextlib.contextmanager
    def slot(self, check: Callable[[], None] | None = None) -> Iterator[Slot]:
        held = self.acquire(check)
        try:
            yield held
        finally:
            held.release()


class Lease:
    """The runner's hold on one slot: taken when its browser is about to start, given back after it quit."""

    def __init__(self, home: Path | str, check: Callable[[], None] | None = None) -> None:
        self.pool = BrowserPool(home)
        self.check = check
        self.slot: Slot | None = None

    def wrap(self, start: Callable[[], T]) -> Callable[[], T]:
        """`start` (a browser factory) preceded by taking a slot; the slot is given back if it fails."""

        def started() -> T:
            if self.slot is None:
                self.slot = self.pool.acquire(self.check)
            try:
                return start()
            except BaseException:
                self.release()
                raise

        return started

    def release(self) -> None:
        if self.slot is not None:
            self.slot.release()
            self.slot = None
