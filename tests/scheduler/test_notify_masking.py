"""A robot's notify command sees the scheduler's environment, secrets included, and its output is logged when it
fails: masked first, then cut to its last 300 characters, so a secret it printed (whole, or split by the cut)
never reaches the scheduler's log."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from robots.scheduler.notify import Notifier

SECRET = "sk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.mark.parametrize("padding", [0, 280, 300 - len(SECRET) // 2])
def test_a_failing_notify_commands_output_is_masked_before_it_is_cut(padding: int, tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOTS_SECRET_SLACK_TOKEN", SECRET)
    script = ("import os, sys; sys.stderr.write('token ' + os.environ['ROBOTS_SECRET_SLACK_TOKEN'] + ' refused'"
              f" + '.' * {padding}); sys.exit(4)")
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    robot = SimpleNamespace(name="nightly", source=str(tmp_path / "robots.yaml"))
    with caplog.at_level(logging.WARNING, logger="robots"):
        Notifier._command(robot, "failure", command, {"run_id": "r1"})  # type: ignore[arg-type]
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith("robot nightly: notify command exited 4: ")
    shown = message.removeprefix("robot nightly: notify command exited 4: ")
    assert len(shown) <= 300
    for i in range(len(SECRET) - 5):
        assert SECRET[i:i + 6] not in shown, (padding, shown)
    if padding == 0:
        assert shown == "token •••••• refused"
