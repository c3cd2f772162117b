"""Every front end prepares its runs through robots/run/launch.py: a failure injected in run preparation (a secret
found nowhere, a vault that cannot be read, a flow's own secret command that cannot start) reads the same from
`robots run`, `robots schedule exec`, `robots watch` and the API (a run's record). No browser: the failure comes
before one would start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from robots.testing.helpers import cli_env
from tests.api.conftest import ApiClient, bearer, token
from tests.api.test_contracts import wait_for_run

FLOW = """name: keyed
description: Needs one secret and no browser (the launcher tests).
secrets:
  launch_key: {command_line}
outputs:
  said: {{type: string, description: a fixed word}}
steps:
  - set_output: {{said: "ok"}}
"""


def _inject(case: str, home: Path) -> tuple[str, str]:
    """(the flow's secret declaration, the message every front end must give)."""
    if case == "unknown secret":
        return "", ("secret 'launch_key' not found; looked in the environment (ROBOTS_SECRET_LAUNCH_KEY), the vault "
                    f"({home / 'vault'}), a command (ROBOTS_SECRET_COMMAND is not set)")
    if case == "unreadable vault":
        home.mkdir(parents=True, exist_ok=True)
        (home / "vault").write_bytes(b"not a Fernet token")
        key = home / "vault.key"
        key.write_text("ZmFrZS1rZXktZmFrZS1rZXktZmFrZS1rZXktZmFrZSE=")  # a valid Fernet key, not the vault's
        key.chmod(0o600)
        return "", f"the vault {home / 'vault'} cannot be decrypted with the configured key"
    assert case == "a flow's secret command that cannot start"
    return ("{command: '/nonexistent/secret-tool {name}'}",
            "the secret command '/nonexistent/secret-tool' failed for 'launch_key': FileNotFoundError")


def _cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robots.cli", *args], input=stdin, capture_output=True, text=True,
                          env=cli_env(home), cwd=home, timeout=120, check=False)


@pytest.mark.parametrize("case", ["unknown secret", "unreadable vault", "a flow's secret command that cannot start"])
def test_a_failure_in_run_preparation_reads_the_same_from_every_front_end(
        case: str, tmp_path: Path, make_client: Callable[..., ApiClient], monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    declaration, message = _inject(case, home)
    flows = tmp_path / "flows"
    flows.mkdir()
    flow = flows / "keyed.yaml"
    flow.write_text(FLOW.format(command_line=declaration), encoding="utf-8")
    home.mkdir(exist_ok=True)

    run = _cli(home, "run", str(flow))
    assert (run.returncode, run.stderr) == (2, f"error: {message}\n")

    spec = {"run_id": "launch-1", "flow": str(flow), "vars": {}, "secrets": {}, "max_runtime": None}
    scheduled = _cli(home, "schedule", "exec", stdin=json.dumps(spec))
    assert (scheduled.returncode, scheduled.stderr) == (2, f"error: {message}\n")

    watched = _cli(home, "watch", str(flow), "--key", "said", "--polls", "1")
    assert (watched.returncode, watched.stderr) == (2, f"error: {message}\n")

    # The API runs in this process: the environment of the command line's (no ROBOTS_* of the test's own).
    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    client = make_client(flows_dir=flows, home=home, webhook_secret="")  # (else it reads the vault to start)
    headers = bearer(token(client, "flows:run", "runs:read"))
    started = client.post("/flows/keyed/runs", headers=headers, json={"vars": {}})
    assert started.status_code == 202, started.text
    body = wait_for_run(client, headers, started.headers["Location"], lambda b: b["status"] != "running")
    assert (body["status"], body["error_message"]) == ("errored", message)
