"""Process tracking (docs/CONTRACTS.md C5): the pids and start times of what a run started, written to the run's
folder, and ended only while pid and start time still match. Never by name or pattern."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from robots.browser.grid_session import end_session


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None if gone.

    A zombie is gone: it has exited and holds nothing but its pid, which Linux does not give out again until its
    parent reaps it. Chrome's helpers become zombies of PID 1 when chromedriver ends before them, and PID 1 may
    reap them only seconds later; counting them alive made every browser close wait for that."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":
        return None
    return int(fields[19])


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    return raw[raw.rindex(")") + 2:].split()


def group_members(pgid: int) -> list[int]:
    """Pids whose process group is `pgid`."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            f = _stat_fields(int(entry))
            if f is not None and int(f[2]) == pgid and f[0] != "Z":
                out.append(int(entry))
    return out


#: roles of processes started as the leader of a process group of their own: ending one ends its group
GROUP_LEADERS = ("chromedriver", "browser")


@dataclass(frozen=True)
class Tracked:
    pid: int
    start_time: int
    #: "chromedriver" (a group leader; Chrome joins its group), "browser" (a Chrome that leads its own
    #: group: undetected-chromedriver starts it), "chrome" (a group member) or "xvfb"
    role: str

    @property
    def leads_group(self) -> bool:
        return self.role in GROUP_LEADERS

    def alive(self) -> bool:
        st = start_time(self.pid)
        return st is not None and st == self.start_time


def track(pid: int, role: str) -> Tracked | None:
    st = start_time(pid)
    return Tracked(pid, st, role) if st is not None else None


def write(path: Path, tracked: list[Tracked], owner_pid: int, scratch: str | None = None) -> None:
    """Record `tracked` in `path`; `scratch` is the browser's temporary folder (profile, driver copy), which the
    orphan sweep removes with the processes.

    Atomic and durable before it returns (a temporary file, fsync'd, renamed over `path`): a runner killed while
    writing leaves the previous record whole, never a cut one that the sweep cannot read."""
    data: dict = {"owner_pid": owner_pid, "owner_start_time": start_time(owner_pid),
                  "processes": [asdict(t) for t in tracked]}
    if scratch is not None:
        data["scratch"] = scratch
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, json.dumps(data, indent=2).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(part, path)
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


#: A command started as `[*GATE, program, *args]` waits for one line on its stdin before it becomes `program`
#: (exec: same pid, same start time). The starter records the pid first, then opens the gate (`open_gate`): if
#: the starter dies in between, the gate reads end-of-file and exits without ever running `program`. So no
#: process we start runs a moment unrecorded, whenever the runner is killed.
GATE = ("/bin/sh", "-c", 'read -r go && exec "$0" "$@"')


def gated(cmd: list[str]) -> list[str]:
    """`cmd` behind the gate; start it with stdin=PIPE, record its pid, then `open_gate`."""
    return [*GATE, *cmd]


def open_gate(stdin: IO[bytes] | None, *, close: bool = False) -> None:
    """Let a gated process run (see GATE). `close`: close its stdin afterwards (a program that never reads it);
    else the pipe stays open for whoever owns it (Selenium's Service closes it when it stops chromedriver). A gate
    that already exited (killed) is not an error here: the caller sees the process gone."""
    if stdin is None:
        return
    try:
        stdin.write(b"go\n")
        stdin.flush()
        if close:
            stdin.close()
    except (BrokenPipeError, ValueError):
        pass


def _remove_scratch(folder: str | None) -> None:
    """Remove a browser's temporary folder, only if it is one of ours (robots-* in the temp folder)."""
    import shutil
    import tempfile

    if not folder:
        return
    p = Path(folder)
    if p.parent == Path(tempfile.gettempdir()) and p.name.startswith("robots-"):
        shutil.rmtree(p, ignore_errors=True)


def end(tracked: list[Tracked], wait: float = 5.0) -> None:
    """SIGKILL what is left of the tracked processes, then wait (up to `wait` s) until it is gone.

    A chromedriver leads its own process group: its group is ended even when the leader already exited,
    because Linux does not hand out a pid again while a process group of that id still has members."""
    import time

    for t in tracked:
        try:
            if t.leads_group and group_members(t.pid):
                os.killpg(t.pid, signal.SIGKILL)
            elif t.alive():
                os.kill(t.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for t in tracked:
            # Reap our own child (chromedriver) so that it does not linger as a zombie.
            try:
                os.waitpid(t.pid, os.WNOHANG)
            except ChildProcessError:
                pass
        left = [t for t in tracked if t.alive() or (t.leads_group and group_members(t.pid))]
        if not left:
            return
        time.sleep(0.02)  # back-off: polling for SIGKILLed processes to disappear


def write_owner(run_dir: Path) -> None:
    """Record which process runs the run in `run_dir` (pid and start time), for the orphan sweep."""
    pid = os.getpid()
    (run_dir / "owner.json").write_text(json.dumps({"pid": pid, "start_time": start_time(pid)}))


def owner_alive(run_dir: Path) -> bool:
    try:
        owner = json.loads((run_dir / "owner.json").read_text())
    except (FileNotFoundError, ValueError):
        return False
    return start_time(owner["pid"]) == owner["start_time"]


def sweep(runs_dir: Path) -> list[tuple[str, list[Tracked]]]:
    """End what runs whose runner is gone (killed, crashed) left running: only the processes they recorded,
    and only while pid and start time still match, and the Grid session they named (remote.json).
    Returns (run id, ended processes) per swept run."""
    swept: list[tuple[str, list[Tracked]]] = []
    if not runs_dir.is_dir():
        return swept
    for run_dir in sorted(runs_dir.iterdir()):
        if not (run_dir / "owner.json").exists() or owner_alive(run_dir):
            continue
        tracked = []
        scratch = None
        try:
            data = json.loads((run_dir / "processes.json").read_text())
            tracked = [Tracked(p["pid"], p["start_time"], p["role"]) for p in data["processes"]]
            scratch = data.get("scratch")
        except (FileNotFoundError, ValueError, KeyError):
            pass
        left = [t for t in tracked if t.alive() or (t.leads_group and group_members(t.pid))]
        end(left)
        _remove_scratch(scratch)
        if (run_dir / "remote.json").exists():  # a session on a Selenium Grid that the run never quit
            end_session(run_dir / "remote.json")
        (run_dir / "owner.json").unlink(missing_ok=True)
        swept.append((run_dir.name, left))
    return swept
