"""Run flows the way users do (the CLI in a subprocess) and look at what a run left behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robots.browser import processes


@dataclass
class FlowRun:
    returncode: int
    stdout: str
    stderr: str
    home: Path

    @property
    def outputs(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    @property
    def run_dirs(self) -> list[Path]:
        runs = self.home / "runs"
        return sorted(runs.iterdir()) if runs.is_dir() else []

    @property
    def run_id(self) -> str:
        for line in self.stderr.splitlines():
            if line.startswith("run "):
                return line.split()[1]
        raise AssertionError(f"no summary line on stderr:\n{self.stderr}")


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOTS_")}
    env.update({"ROBOTS_HOME": str(home), "ROBOTS_DATABASE_URL": f"sqlite:///{home}/robots.db",
                "SE_OFFLINE": "true", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_flow_cli(args: list[str], home: Path, *, env: dict[str, str] | None = None, cwd: Path | None = None,
                 timeout: float = 300) -> FlowRun:
    """`python -m robots.cli run ARGS...` in a subprocess with its own ROBOTS_HOME and database."""
    done = subprocess.run([sys.executable, "-m", "robots.cli", "run", *args], capture_output=True, text=True,
                          env={**cli_env(home), **(env or {})}, cwd=cwd, timeout=timeout, check=False)
    return FlowRun(done.returncode, done.stdout, done.stderr, home)


def flows_with_page_load(source: Path, folder: Path, seconds: float, *names: str) -> Path:
    """A copy of the flows folder `source` at `folder`/`source.name`, in which the flows `names` (paths below it
    without .yaml, e.g. "acme/void_invoice") give up on a page after `seconds` instead of their `timeouts.page_load`
    of 8 s, the rest of each flow unchanged. For a test that makes the portal answer late on purpose (a slow commit,
    a late page): it waits out a shorter timeout against a proportionally shorter delay, and proves the same. The
    copies find their selector catalogs as any flow outside a project does: the installed portal pack's."""
    copy = folder / source.name
    shutil.copytree(source, copy)
    for name in names:
        path = copy / f"{name}.yaml"
        text, count = re.subn(r"(?m)^(timeouts:(?:\n  .*)*?\n  page_load:) *8\b", rf"\g<1> {seconds:g}",
                              path.read_text())
        if count != 1:
            raise AssertionError(f"{path}: no `timeouts.page_load: 8` to shorten")
        path.write_text(text)
    return copy


def wait_for_chrome(home: Path, timeout: float = 60) -> Path | None:
    """The folder of the first run under `home` once it has recorded a running Chrome (None on timeout):
    the moment to interrupt a run in a test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list((home / "runs").glob("*/processes.json"))
        try:
            if files and any(p["role"] == "chrome" for p in json.loads(files[0].read_text())["processes"]):
                return files[0].parent
        except ValueError:  # caught while the runner was writing it
            pass
        time.sleep(0.1)  # back-off: polling the run folder for processes.json
    return None


def tracked_pids_alive(run_dir: Path) -> list[dict[str, Any]]:
    """The processes a run recorded (processes.json) that still exist, counting the members of
    chromedriver's process group too. An empty list means the run cleaned up after itself."""
    f = run_dir / "processes.json"
    if not f.exists():
        return []
    data = json.loads(f.read_text())
    alive = []
    for p in data["processes"]:
        t = processes.Tracked(p["pid"], p["start_time"], p["role"])
        if t.alive():
            alive.append(p)
        if t.leads_group:  # chromedriver, or a Chrome that undetected-chromedriver started in its own group
            alive += [{"pid": pid, "role": "group member"} for pid in processes.group_members(t.pid)
                      if pid != t.pid]
    return alive


def create_until_answered(base_url: str, headers: dict[str, str], key: str, body: dict[str, Any], *,
                          timeout: float, deadline_s: float = 600) -> dict[str, Any]:
    """POST /customers with `key` until the API answers 200/201: after a client-side timeout or a 5xx the same key
    and body again at once; after a 409 "still being answered" again after its Retry-After. Returns the final
    answer and what happened on the way."""
    import httpx

    seen: list[str] = []
    deadline = time.monotonic() + deadline_s
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        while time.monotonic() < deadline:
            try:
                r = client.post("/customers", json=body, headers={**headers, "Idempotency-Key": key})
            except httpx.TimeoutException:
                seen.append("client timeout")
                continue
            if r.status_code in (200, 201):
                seen.append(f"{r.status_code}{' replayed' if r.headers.get('Idempotent-Replayed') else ''}")
                return {"key": key, "status": r.status_code, "body": r.json(), "seen": seen}
            error = r.json()["error"]
            seen.append(f"{r.status_code} {error['type']}")
            if r.status_code == 429 or (r.status_code == 409 and error["type"] == "idempotency_in_progress"):
                time.sleep(float(r.headers["Retry-After"]))  # back-off: the server said when to ask again
            elif r.status_code < 500:
                return {"key": key, "status": r.status_code, "body": r.json(), "seen": seen}
    raise AssertionError(f"{key}: no answer within {deadline_s} s: {seen}")
