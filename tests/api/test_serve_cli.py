"""`robots serve` and `robots api token create` as a user runs them: a token minted by the CLI works against the
served API, whose database it shares."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from robots.testing.helpers import cli_env

from .test_webhooks import free_port


def test_robots_serve_answers_with_a_cli_minted_token(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    made = subprocess.run([sys.executable, "-m", "robots.cli", "api", "token", "create", "--scope", "runs:read",
                           "--label", "ops", "--days", "1"], capture_output=True, text=True, env=env, timeout=60)
    assert made.returncode == 0, made.stderr
    raw = made.stdout.strip()
    assert raw.startswith("rbt_") and "(runs:read), expires " in made.stderr and raw not in made.stderr
    bad = subprocess.run([sys.executable, "-m", "robots.cli", "api", "token", "create", "--scope", "root"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert (bad.returncode, bad.stdout) == (2, "")
    # the core's scopes, then each pack's (robots.packs: PortalPack.scopes)
    assert bad.stderr.startswith("error: unknown scope root; known: flows:run, runs:read, webhooks:manage, audit:read, "
                                 "sessions:create, admin, customers:read, customers:write,")
    boot = subprocess.run([sys.executable, "-m", "robots.cli", "api", "token", "create", "--scope", "session:create",
                           "--credential", "sera"], capture_output=True, text=True, env=env, timeout=60)
    assert (boot.returncode, boot.stdout) == (2, "")
    assert boot.stderr.startswith("error: unknown scope session:create (did you mean 'sessions:create'?); known: ")
    boot = subprocess.run([sys.executable, "-m", "robots.cli", "api", "token", "create", "--scope", "sessions:create",
                           "--credential", "sera", "--tenant", "acme"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert boot.returncode == 0, boot.stderr
    assert "(sessions:create; credentials sera; tenant acme), expires " in boot.stderr

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "robots.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except httpx.ConnectError:
                assert server.poll() is None and time.monotonic() < deadline, "robots serve did not start"
                time.sleep(0.1)  # back-off while the server starts
        assert health.json()["status"] == "ok"
        r = httpx.get(f"http://127.0.0.1:{port}/runs/nope", headers={"Authorization": f"Bearer {raw}"})
        assert (r.status_code, r.json()["error"]["message"]) == (404, "no run with id 'nope'")
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"Sera API on http://127.0.0.1:{port} (docs: /docs)" in err
