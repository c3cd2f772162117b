"""Steps for scheduled robots and for the Sera API."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import httpx
import yaml

from robots.packs.sera.bdd.world import World, _get, _step, _text
from robots.records import SqlStore
from robots.records.model import RunRecord

# -- scheduled robots ---------------------------------------------------------------------------------------


@_step("given", "the schedule:", 'Given the schedule:\n  """\n  - name: holder\n'
       "    flow: tests/packs/sera/bdd/flows/hold_briefly.yaml\n    trigger: {interval: 2}\n  \"\"\"")
def _schedule(robots_bdd: World, docstring: str) -> None:
    """A schedule file (robots, their flows and triggers) given as a docstring; flow paths from the project's
    root. `When the scheduler runs ...` runs it."""
    robots = yaml.safe_load(docstring)
    if not isinstance(robots, list):
        raise AssertionError("a schedule is a YAML list of robots")
    for robot in robots:
        if isinstance(robot, dict) and isinstance(robot.get("flow"), str):
            robot["flow"] = str(robots_bdd.path(robot["flow"]))
    n = 0
    while (robots_bdd.home / "schedules" / str(n)).exists():
        n += 1
    folder = robots_bdd.home / "schedules" / str(n)
    folder.mkdir(parents=True)
    (folder / "robots.yaml").write_text(yaml.safe_dump(robots, sort_keys=False))
    robots_bdd.extra["schedule"] = folder / "robots.yaml"


@_step("when", 'the scheduler runs until robot "{robot}" has finished {count:d} runs',
       'When the scheduler runs until robot "holder" has finished 2 runs')
def _scheduler_runs(robots_bdd: World, robot: str, count: int) -> None:
    """Runs `robots schedule run` on the schedule (a process of its own, with its own robots home and the
    scenario's account), waits (at most 4 minutes) until the robot has that many runs that ran to their end,
    then stops the scheduler with SIGTERM (a run still going finishes in its grace period)."""
    import signal
    import subprocess
    import sys
    import time

    from robots.auth.vault import env_name
    from robots.scheduler.state import Registry
    from robots.testing.helpers import cli_env

    schedule = robots_bdd.extra.get("schedule")
    if schedule is None:
        raise AssertionError("no schedule yet (add a `Given the schedule:` step)")
    home = schedule.parent / "home"
    env = cli_env(home, ROBOTS_PORTAL_URL=robots_bdd.tenant_url,
                  **{env_name(k): v for k, v in robots_bdd.secrets.items()})
    log = schedule.parent / "scheduler.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "schedule", "run", str(schedule), "--grace",
                                 "60"], stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True)

    def runs() -> list[RunRecord]:
        if not (home / "robots.db").exists():
            return []
        store = SqlStore(f"sqlite:///{home / 'robots.db'}")
        try:
            out = []
            for row in Registry(store.engine).runs(robot):
                try:
                    out.append(store.get(row.run_id))
                except LookupError:  # its process has not written the first record yet
                    pass
            return out
        finally:
            store.close()

    try:
        deadline = time.monotonic() + 240
        while len([r for r in runs() if r.status not in ("running", "skipped")]) < count:
            if proc.poll() is not None:
                raise AssertionError(f"the scheduler ended (exit {proc.returncode}): {log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after 240 s waiting for {count} runs of robot {robot}")
            time.sleep(0.2)  # back-off: the poll of a wait with a deadline
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    robots_bdd.extra[f"robot:{robot}"] = runs()
    robots_bdd.extra["scheduler_log"] = log.read_text()


def _robot_runs(world: World, robot: str) -> list[RunRecord]:
    if f"robot:{robot}" not in world.extra:
        raise AssertionError(f"robot {robot} has not been scheduled in this scenario")
    return list(world.extra[f"robot:{robot}"])


@_step("then", 'a fire of robot "{robot}" while it ran was recorded "{message}"',
       'Then a fire of robot "holder" while it ran was recorded "skipped (still running)"')
def _fire_skipped(robots_bdd: World, robot: str, message: str) -> None:
    """A fire that came while a run of the robot was going is a `skipped` record with exactly this message
    (and every fire skipped then says so)."""
    records = _robot_runs(robots_bdd, robot)
    ran = [r for r in records if r.status not in ("skipped", "running") and r.ended_at is not None]
    during = [r for r in records if r.status == "skipped"
              and any(x.started_at < r.started_at < x.ended_at for x in ran if x.ended_at)]
    assert during, f"no fire was recorded while a run went ({len(ran)} runs, " \
                   f"{len([r for r in records if r.status == 'skipped'])} skipped)"
    assert {r.error_message for r in during} == {message}, sorted({str(r.error_message) for r in during})


@_step("then", 'no two runs of robot "{robot}" overlap', 'Then no two runs of robot "holder" overlap')
def _no_overlap(robots_bdd: World, robot: str) -> None:
    """The runs that ran (not the skipped fires) follow each other: each starts after the one before ended."""
    ran = sorted((r for r in _robot_runs(robots_bdd, robot) if r.status != "skipped"), key=lambda r: r.started_at)
    for before, after in zip(ran, ran[1:], strict=False):
        assert before.ended_at is not None and before.ended_at <= after.started_at, \
            f"{after.run_id} started at {after.started_at} while {before.run_id} ran ({before.started_at} to " \
            f"{before.ended_at})"


@_step("then", 'every run of robot "{robot}" passed', 'Then every run of robot "holder" passed')
def _robot_passed(robots_bdd: World, robot: str) -> None:
    """Every run of the robot that ran (not the skipped fires) passed."""
    ran = [r for r in _robot_runs(robots_bdd, robot) if r.status != "skipped"]
    assert ran and all(r.status == "passed" for r in ran), [(r.run_id, r.status, r.error_message) for r in ran]


# -- the Sera API -----------------------------------------------------------------------------------------


@_step("given", "the Sera API is served", "Given the Sera API is served")
def _api_served(robots_bdd: World) -> None:
    """The Sera API (robots.api) served by uvicorn on a loopback port for this scenario, with a run store and
    robots home of its own; stopped when the scenario ends."""
    import socket
    import threading
    import time

    import uvicorn

    from robots.api import ApiSettings, create_app

    n = 0
    while (robots_bdd.home / "api" / str(n)).exists():
        n += 1
    folder = robots_bdd.home / "api" / str(n)
    folder.mkdir(parents=True)
    app = create_app(ApiSettings(database_url=f"sqlite:///{folder}/api.db", home=folder / "home",
                                 portal_url=robots_bdd.tenant_url, portal_tenant=robots_bdd.tenant))

    class _Server(uvicorn.Server):
        def capture_signals(self) -> Any:  # the test process keeps its own signal handlers
            import contextlib

            return contextlib.nullcontext()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bdd-api", daemon=True)
    thread.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=300)

    def stop() -> None:
        client.close()
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()

    robots_bdd.cleanups.append(stop)
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the API did not start")
        time.sleep(0.01)  # back-off while polling uvicorn's started flag
    robots_bdd.extra["api"] = client
    robots_bdd.extra["api_app"] = app
    robots_bdd.extra["api_answers"] = []


def _api(world: World) -> httpx.Client:
    if "api" not in world.extra:
        raise AssertionError("the API is not served in this scenario (add `Given the Sera API is served`)")
    client: httpx.Client = world.extra["api"]
    return client


@_step("given", "I have an API session for my account", "Given I have an API session for my account")
def _api_session(robots_bdd: World) -> None:
    """POST /sessions signs the scenario's account in to the portal (its TOTP secret as the second factor); the
    token it answers is sent with every later API request."""
    s = robots_bdd.secrets
    if not s.get("sera_totp"):
        raise AssertionError("an API session needs an account with a TOTP second factor (like demo)")
    body = {"portal_url": robots_bdd.tenant_url, "tenant": robots_bdd.tenant, "username": s["sera_username"],
            "password": s["sera_password"], "mfa": {"method": "totp", "totp_secret": s["sera_totp"]}}
    client = _api(robots_bdd)
    # The operator's token (as `robots api token create --scope admin` mints it): POST /sessions needs a caller.
    tokens = robots_bdd.extra["api_app"].state.tokens
    bootstrap, _ = tokens.create(["admin"], label="bdd", ttl=timedelta(hours=1))
    r = client.post("/sessions", json=body, headers={"Authorization": f"Bearer {bootstrap}"})
    assert r.status_code == 201, f"POST /sessions answered {r.status_code}: {r.text}"
    robots_bdd.extra["api_token"] = r.json()["token"]


@_step("when", 'I send "{method} {path}" with the Idempotency-Key "{key}":',
       'When I send "POST /customers" with the Idempotency-Key "create-ada":\n  """\n'
       '  {"name": "Ada Api", "city": "Austin", "state": "TX"}\n  """')
def _api_send(robots_bdd: World, method: str, path: str, key: str, docstring: str) -> None:
    """An API request with a JSON body (the docstring), the session's token and an Idempotency-Key."""
    headers = {"Idempotency-Key": key}
    if "api_token" in robots_bdd.extra:
        headers["Authorization"] = f"Bearer {robots_bdd.extra['api_token']}"
    answer = _api(robots_bdd).request(method, path, headers=headers, json=json.loads(docstring))
    robots_bdd.extra["api_answers"].append((key, answer))


def _answer(world: World) -> httpx.Response:
    answers = world.extra.get("api_answers") or []
    if not answers:
        raise AssertionError("no API request has been sent in this scenario")
    response: httpx.Response = answers[-1][1]
    return response


@_step("then", "the API answered {status:d}", "Then the API answered 201")
def _api_status(robots_bdd: World, status: int) -> None:
    """The last API answer's HTTP status."""
    r = _answer(robots_bdd)
    assert r.status_code == status, f"{r.status_code}: {r.text}"


@_step("then", 'the API answer has "{field}" = "{value}"', 'Then the API answer has "customer.city" = "Austin"')
def _api_field(robots_bdd: World, field: str, value: str) -> None:
    """A field of the last API answer's JSON body (dotted), as text."""
    got = _get(_answer(robots_bdd).json(), field)
    assert _text(got) == value, f"{field} is {got!r}"


@_step("then", "the API answer is the first one replayed", "Then the API answer is the first one replayed")
def _api_replayed(robots_bdd: World) -> None:
    """The last answer is the first answer to its Idempotency-Key again (status and body), marked
    `Idempotent-Replayed: true`."""
    _answer(robots_bdd)  # at least one
    key, last = robots_bdd.extra["api_answers"][-1]
    first = next(a for k, a in robots_bdd.extra["api_answers"] if k == key)
    assert first is not last, "only one request was sent with this Idempotency-Key"
    assert (last.status_code, last.json()) == (first.status_code, first.json()), last.text
    assert last.headers.get("Idempotent-Replayed") == "true", dict(last.headers)


@_step("then", 'the API answered {status:d} with the error "{kind}": "{message}"',
       'Then the API answered 409 with the error "idempotency_conflict": "this Idempotency-Key was used with a '
       'different request"')
def _api_error(robots_bdd: World, status: int, kind: str, message: str) -> None:
    """The error envelope: `{"error": {type, message, details, request_id}}` with this status, type and exact
    message, its request_id the answer's X-Request-Id."""
    r = _answer(robots_bdd)
    body = r.json()
    assert r.status_code == status, f"{r.status_code}: {r.text}"
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "details", "request_id"}, body
    assert (body["error"]["type"], body["error"]["message"]) == (kind, message), body
    assert body["error"]["request_id"] == r.headers["X-Request-Id"]


__all__ = [name for name in list(globals()) if name.startswith("pytestbdd_")]
