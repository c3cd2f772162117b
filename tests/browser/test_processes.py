"""robots/browser/processes.py: a process that has exited is gone, whoever has yet to reap it.

Chrome's helpers outlive chromedriver by a moment and are handed to PID 1, which reaps them when it gets round to
it (here: after about 1.7 s). Counted as alive, every browser close waited for that; a zombie holds no memory and
its pid is not given out again while it exists, so it is ended."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from robots.browser import processes


def _state(pid: int) -> str:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2]


def test_an_exited_process_not_reaped_yet_is_not_alive_and_end_does_not_wait_for_it() -> None:
    proc = subprocess.Popen(["/bin/sh", "-c", "read -r line"], stdin=subprocess.PIPE)
    try:
        tracked = processes.track(proc.pid, "chrome")
        assert tracked is not None and tracked.alive()
        assert proc.stdin is not None
        proc.stdin.close()  # it exits; nobody reaps it until proc.wait() below
        deadline = time.monotonic() + 10
        while _state(proc.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)  # back-off: waiting for the shell to exit
        assert _state(proc.pid) == "Z"

        assert processes.start_time(proc.pid) is None
        assert not tracked.alive()
    finally:
        proc.wait()
