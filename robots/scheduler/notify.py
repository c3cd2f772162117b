"""Failure, recovery and drift notifications: once per change of a robot's state, never on every failed run.
Webhooks go through the one outbox (robots.outbox); a command gets the event as JSON on stdin."""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
from typing import Any

from robots.masking import Masker, shorten
from robots.outbox import Outbox
from robots.records.model import RunRecord
from robots.scheduler.config import Robot
from robots.scheduler.state import Registry

log = logging.getLogger("robots.scheduler")

COMMAND_TIMEOUT_S = 60


def drift_of(record: RunRecord) -> str | None:
    """The run's selector drift, one line per selector (None without drift)."""
    lines = sorted({part.strip() for s in record.steps if s.drift for part in s.drift.split(";")})
    return "\n".join(lines) or None


class Notifier:
    def __init__(self, registry: Registry, outbox: Outbox | None) -> None:
        self.registry = registry
        self.outbox = outbox

    def after_run(self, robot: Robot, record: RunRecord) -> list[str]:
        """Update the robot's health from a finished run; return the events that went out (failure, recovery,
        drift). Skipped, interrupted and canceled runs change nothing."""
        state = self.registry.get(robot.name)
        events: list[str] = []
        values: dict[str, Any] = {}
        if record.status in ("failed", "errored"):
            if state.health != "failing":
                events.append("failure")
            values["health"] = "failing"
        elif record.status == "passed":
            if state.health == "failing":
                events.append("recovery")
            values["health"] = "ok"
        if record.status in ("passed", "failed"):
            drift = drift_of(record)
            if drift and drift != state.drift:
                events.append("drift")
            values["drift"] = drift
        if values:
            self.registry.update(robot.name, **values)
        sent: list[str] = [e for e in events if e in robot.doc.notify.events]
        for kind in sent:
            self.send(robot, kind, self.payload(robot, kind, record, state.health))
        return sent

    @staticmethod
    def payload(robot: Robot, kind: str, record: RunRecord, previous: str | None) -> dict[str, Any]:
        return {
            "robot": robot.name, "kind": kind, "flow": record.flow_name, "run_id": record.run_id,
            "status": record.status, "failure_kind": record.failure_kind, "error": record.error_message,
            "error_class": record.error_class, "started_at": record.started_at.isoformat(),
            "ended_at": record.ended_at.isoformat() if record.ended_at else None, "previous_health": previous,
            "drift": drift_of(record), "tags": robot.doc.tags, "run_dir": record.run_dir,
        }

    def send(self, robot: Robot, kind: str, payload: dict[str, Any]) -> None:
        notify = robot.doc.notify
        log.info("robot %s: %s notification (%s)", robot.name, kind,
                 ", ".join([*notify.webhooks, *([notify.command] if notify.command else [])]) or "no target")
        for url in notify.webhooks:
            if self.outbox is None:
                log.warning("robot %s: no webhook outbox; %s event for %s not sent", robot.name, kind, url)
                continue
            self.outbox.enqueue(url, f"robot.{kind}", payload)
        if notify.command:
            self._command(robot, kind, notify.command, payload)

    @staticmethod
    def _command(robot: Robot, kind: str, command: str, payload: dict[str, Any]) -> None:
        env = {**os.environ, "ROBOTS_EVENT": kind, "ROBOTS_ROBOT": robot.name, "ROBOTS_RUN_ID": payload["run_id"]}
        try:
            done = subprocess.run(shlex.split(command), input=json.dumps(payload), text=True, env=env,
                                  capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False,
                                  cwd=os.path.dirname(robot.source) or None)
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("robot %s: notify command failed: %s", robot.name, e)
            return
        if done.returncode != 0:
            # The command sees this process's environment, secrets included: its words are masked before the last
            # 300 characters are kept (cut first, a secret split by the cut would no longer be masked).
            masker = Masker(v for k, v in env.items() if k.startswith("ROBOTS_SECRET_"))
            log.warning("robot %s: notify command exited %d: %s", robot.name, done.returncode,
                        shorten((done.stderr or done.stdout).strip(), 300, masker, keep_end=True))
