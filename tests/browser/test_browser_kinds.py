"""Every browser kind runs the Sera sign-in and customer list against the sandbox: chromium, undetected
(undetected-chromedriver) and remote (a real Selenium Grid 4 standalone, started here). Passing, failing and
SIGINT-interrupted runs of each kind leave no Chrome behind; start failures say what to install or set."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from robots import load_flow
from robots.browser.grid import GridServer, grid_jar
from robots.browser.settings import BrowserOverrides
from robots.engine import Runner
from robots.errors import BrowserError
from robots.portals import open_portal
from robots.records import MemoryStore, SqlStore
from robots.testing import run_flow_cli, tracked_pids_alive
from robots.testing.helpers import cli_env, wait_for_chrome

ROOT = Path(__file__).resolve().parents[2]
FLOWS = Path(__file__).resolve().parent / "flows"
LIST = str(ROOT / "flows/sera/list_customers.yaml")
QUERY = ["--var", "q=C-10001", "--var", "page_size=25"]  # one page: C-100010 ... C-100019
NUMBERS = [f"C-1000{n}" for n in range(10, 20)]

pytestmark = pytest.mark.browser


def _need_grid() -> None:
    """Skip without Java or the Grid jar (scripts/setup.sh installs both), except under CI=true: fail (C7)."""
    try:
        grid_jar()
        if shutil.which("java") is None:
            raise BrowserError("java is not installed")
    except BrowserError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the remote browser's tests need the Selenium Grid: {e}")
        pytest.skip(f"the remote browser's tests need the Selenium Grid: {e}")


@pytest.fixture(scope="module")
def grid() -> Iterator[GridServer]:
    """A Selenium Grid 4 standalone (java -jar, offline, Debian's chromedriver) on a free loopback port."""
    _need_grid()
    server = GridServer().start()
    try:
        yield server
    finally:
        server.stop()


def _grid_idle(grid: GridServer, timeout: float = 30) -> bool:
    """True once the Grid holds no session and its process group has no chromedriver or Chrome left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        slots = [s for n in httpx.get(f"{grid.url}/status").json()["value"]["nodes"] for s in n["slots"]]
        if not grid.browser_pids() and all(s["session"] is None for s in slots):
            return True
        time.sleep(0.1)
    return False


def _record(home: Path, run_id: str):
    store = SqlStore(f"sqlite:///{home}/robots.db")
    try:
        return store.get(run_id)
    finally:
        store.close()


def _roles(run_dir: Path) -> list[str]:
    return [p["role"] for p in json.loads((run_dir / "processes.json").read_text())["processes"]]


def test_undetected_signs_in_and_lists_customers(sandbox, sandbox_env, tmp_path):
    untouched = Path("/usr/bin/chromedriver").read_bytes()
    # Offline: any download undetected-chromedriver tried (a driver, a version list) would meet a dead proxy.
    dead = "http://127.0.0.1:9"
    offline = {"http_proxy": dead, "https_proxy": dead, "no_proxy": "127.0.0.1,localhost"}
    run = run_flow_cli([LIST, *QUERY, "--browser", "undetected"], tmp_path, env={**sandbox_env, **offline})
    assert run.returncode == 0, run.stderr
    assert [c["number"] for c in run.outputs["customers"]] == NUMBERS
    [run_dir] = run.run_dirs
    roles = _roles(run_dir)
    # Chrome (started by undetected-chromedriver, leading its own group), its patched driver, Chrome's helpers.
    assert roles[:2] == ["browser", "chromedriver"] and "chrome" in roles
    assert tracked_pids_alive(run_dir) == []
    assert _record(tmp_path, run.run_id).browser["kind"] == "undetected"
    # It patched a copy, never Debian's chromedriver; the copy went with the run.
    assert Path("/usr/bin/chromedriver").read_bytes() == untouched
    assert b"undetected chromedriver" not in untouched


def test_remote_signs_in_and_lists_customers_on_a_grid(grid, sandbox, sandbox_env, tmp_path):
    assert grid.browser_pids() == []
    run = run_flow_cli([LIST, *QUERY, "--browser", "remote", "--grid-url", grid.url], tmp_path,
                       env={**sandbox_env, "ROBOTS_CHROME_BINARY": "/usr/bin/chromium"})
    assert run.returncode == 0, run.stderr
    assert [c["number"] for c in run.outputs["customers"]] == NUMBERS
    record = _record(tmp_path, run.run_id)
    assert record.browser["kind"] == "remote" and record.browser["version"].split(".")[0].isdigit()
    [run_dir] = run.run_dirs
    assert not (run_dir / "processes.json").exists()  # nothing ran here: Chrome lives on the Grid
    assert _grid_idle(grid)


def _on_grid(grid: GridServer, flow: str, tmp_path: Path, sandbox, **vars: str):
    """A flow run in this process by the Runner, its browser a session on the Grid."""
    from robots.packs.sera.sandbox import credentials

    c = credentials()
    secrets = {"sera_username": c["username"], "sera_password": c["password"], "sera_totp": c["totp_secret"]}
    with open_portal("sera", url=sandbox.url) as portal:
        runner = Runner(store=MemoryStore(), home=tmp_path, trigger="test",
                        browser=BrowserOverrides(kind="remote", grid_url=grid.url))
        record = runner.run(load_flow(FLOWS / flow), vars=vars, secrets=secrets, portal=portal)
    assert record.status == "passed", (record.error_message, [(s.name, s.status) for s in record.steps])
    assert record.browser["kind"] == "remote"
    return record


def test_the_step_tour_on_the_grid(grid, sandbox, tmp_path, monkeypatch):
    """XHR waits (the network hook goes through the Grid's CDP), modals, screenshots, tables, lists."""
    monkeypatch.setenv("ROBOTS_CHROME_BINARY", "/usr/bin/chromium")
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "whats_new"}).raise_for_status()
    out = _on_grid(grid, "step_tour.yaml", tmp_path, sandbox).outputs
    assert out["summary"] == "Showing 1–50 of 2,500 customers"
    assert out["board_rows"] >= 1 and len(out["names"]) == 3
    assert _grid_idle(grid)


def test_uploads_frames_and_windows_on_the_grid(grid, sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTS_CHROME_BINARY", "/usr/bin/chromium")
    attachment = tmp_path / "site photo.txt"
    attachment.write_bytes("condenser coil, Zoë's unit\n".encode() * 100)
    want = hashlib.sha256(attachment.read_bytes()).hexdigest()
    out = _on_grid(grid, "job_attachments.yaml", tmp_path, sandbox, job="50001", file=str(attachment)).outputs
    assert out["shown_sha256"] == want  # the portal got the same bytes, sent to the node by the file detector
    assert want in out["viewer_sha256"] and out["print_number"] == out["job_number"]
    assert _grid_idle(grid)


def test_a_canceled_run_on_a_worker_thread_ends_its_grid_session(grid, sandbox, tmp_path, monkeypatch):
    """No signal reaches a run off the main thread (API workers): a cancel makes the guard end its browser under
    the waiting step, which for the remote kind means deleting the session on the Grid."""
    import threading

    monkeypatch.setenv("ROBOTS_CHROME_BINARY", "/usr/bin/chromium")
    store = MemoryStore()
    result: dict = {}

    def work() -> None:
        with open_portal("sera", url=sandbox.url) as portal:
            runner = Runner(store=store, home=tmp_path, trigger="api",
                            browser=BrowserOverrides(kind="remote", grid_url=grid.url))
            result["record"] = runner.run(load_flow(FLOWS / "hold.yaml"), portal=portal, run_id="worker-run")

    def waiting() -> bool:  # in its second step (hold.yaml waits 120 s there)
        try:
            return any(s.status == "passed" for s in store.get("worker-run").steps)
        except LookupError:
            return False

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 120
    while not waiting() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert grid.browser_pids() != []
    store.request_cancel("worker-run", "the API")
    worker.join(60)
    assert not worker.is_alive()  # its wait was cut short
    record = result["record"]
    assert (record.status, record.error_message) == ("canceled", "canceled by the API")
    assert _grid_idle(grid) and not (tmp_path / "runs/worker-run/remote.json").exists()


def test_chromium_signs_in_and_lists_customers(sandbox, sandbox_env, tmp_path):
    run = run_flow_cli([LIST, *QUERY, "--browser", "chromium"], tmp_path, env=sandbox_env)
    assert run.returncode == 0, run.stderr
    assert [c["number"] for c in run.outputs["customers"]] == NUMBERS
    [run_dir] = run.run_dirs
    assert _roles(run_dir)[0] == "chromedriver"
    assert tracked_pids_alive(run_dir) == []
    assert _record(tmp_path, run.run_id).browser["kind"] == "chromium"


def test_undetected_headed_runs_on_a_virtual_display_without_one(sandbox, tmp_path):
    run = run_flow_cli([str(FLOWS / "sign_in_page.yaml"), "--browser", "undetected", "--headed"], tmp_path,
                       env={"ROBOTS_PORTAL_URL": sandbox.url, "DISPLAY": ""})
    assert run.returncode == 0, run.stderr
    [run_dir] = run.run_dirs
    assert _roles(run_dir)[:3] == ["xvfb", "browser", "chromedriver"]
    assert tracked_pids_alive(run_dir) == []


def test_flow_section_then_environment_then_command_line(sandbox, tmp_path):
    """Three real runs, one per layer (about a minute on a busy 2-core machine: two of them start
    undetected-chromedriver, which patches its driver copy each time)."""
    flow = tmp_path / "kind.yaml"
    flow.write_text((FLOWS / "sign_in_page.yaml").read_text()
                    + f"selectors: {ROOT / 'selectors/sera'}\n"
                    + "browser:\n  kind: undetected\n  window_size: 1024x700\n  arguments: [--lang=de-DE]\n")
    kinds = []
    for n, (env, args) in enumerate([({}, []), ({"ROBOTS_BROWSER": "chromium"}, []),
                                     ({"ROBOTS_BROWSER": "chromium"}, ["--browser", "undetected"])]):
        home = tmp_path / f"h{n}"
        run = run_flow_cli([str(flow), *args], home, env={"ROBOTS_PORTAL_URL": sandbox.url, **env})
        assert run.returncode == 0, run.stderr
        kinds.append(_record(home, run.run_id).browser["kind"])
        assert tracked_pids_alive(run.run_dirs[0]) == []
    assert kinds == ["undetected", "chromium", "undetected"]


def _run(kind: str, outcome: str, home: Path, portal: str, grid: GridServer | None) -> tuple[int, str]:
    args = {"pass": [str(FLOWS / "sign_in_page.yaml")],
            "fail": [str(FLOWS / "sign_in_page.yaml"), "--var", "expect=Welcome back"],
            "sigint": [str(FLOWS / "hold.yaml")]}[outcome]
    args += ["--browser", kind] + (["--grid-url", grid.url] if grid else [])
    env = cli_env(home, ROBOTS_PORTAL_URL=portal, ROBOTS_CHROME_BINARY="/usr/bin/chromium")
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    if outcome == "sigint":
        if grid is None:
            assert wait_for_chrome(home) is not None
        else:
            deadline = time.monotonic() + 60
            while not grid.browser_pids() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert grid.browser_pids(), "the Grid started no Chrome"
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.mark.parametrize("kind", ["chromium", "undetected"])
@pytest.mark.parametrize("outcome", ["pass", "fail", "sigint"])
def test_local_kinds_leave_no_chrome_behind(kind, outcome, sandbox, tmp_path):
    code, err = _run(kind, outcome, tmp_path, sandbox.url, None)
    assert code == {"pass": 0, "fail": 1, "sigint": 130}[outcome], err
    [run_dir] = sorted((tmp_path / "runs").iterdir())
    assert "chrome" in _roles(run_dir)  # Chrome ran, with its helpers recorded...
    assert tracked_pids_alive(run_dir) == []  # ...and none of them is left
    assert not (run_dir / "owner.json").exists()
    if outcome == "fail":
        assert "error: expected the page to contain 'Welcome back'" in err


@pytest.mark.parametrize("outcome", ["pass", "fail", "sigint"])
def test_remote_sessions_end_on_the_grid(outcome, grid, sandbox, tmp_path):
    assert _grid_idle(grid, timeout=5)  # no Chrome on the Grid before
    code, err = _run("remote", outcome, tmp_path, sandbox.url, grid)
    assert code == {"pass": 0, "fail": 1, "sigint": 130}[outcome], err
    assert _grid_idle(grid)  # the session was quit: its Chrome and chromedriver are gone from the Grid


@pytest.mark.parametrize("kind", ["chromium", "undetected", "remote"])
def test_the_sweep_ends_what_a_killed_runner_left(kind, request, sandbox, tmp_path):
    """kill -9 of the runner: its Chrome (or Grid session) outlives it until `robots runs sweep` (run at the start
    of every `robots run` too) ends it, by the pids and groups it recorded or the session it named, and removes
    its temporary profile (and undetected's driver copy)."""
    grid = request.getfixturevalue("grid") if kind == "remote" else None
    args = [str(FLOWS / "hold.yaml"), "--browser", kind] + (["--grid-url", grid.url] if grid else [])
    env = cli_env(tmp_path, ROBOTS_PORTAL_URL=sandbox.url, ROBOTS_CHROME_BINARY="/usr/bin/chromium")
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "run", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        if grid is None:
            run_dir = wait_for_chrome(tmp_path)
        else:
            deadline = time.monotonic() + 60
            while not list((tmp_path / "runs").glob("*/remote.json")) and time.monotonic() < deadline:
                time.sleep(0.1)
            run_dir = next((tmp_path / "runs").glob("*/remote.json")).parent
        assert run_dir is not None
    finally:
        proc.kill()
        proc.wait()
    if grid is None:
        assert tracked_pids_alive(run_dir) != []  # Chrome outlived its runner...
    else:
        assert grid.browser_pids() != []
    sweep = subprocess.run([sys.executable, "-m", "robots.cli", "runs", "sweep"], capture_output=True, text=True,
                           env=env, timeout=120, check=False)
    assert sweep.returncode == 0, sweep.stderr
    if grid is None:
        assert tracked_pids_alive(run_dir) == []  # ...until the sweep ended it
        scratch = json.loads((run_dir / "processes.json").read_text())["scratch"]  # profile and driver copy
        assert scratch.startswith(tempfile.gettempdir()) and not Path(scratch).exists()
    else:
        assert _grid_idle(grid) and not (run_dir / "remote.json").exists()


def test_a_signal_while_the_grid_queues_the_session_ends_it_once_created(sandbox, tmp_path):
    """The session must reach the runner to be ended: a SIGINT while a full Grid queues the request is held
    until the session exists, which is then quit (a second signal would stop waiting)."""
    import threading

    from robots.browser.drivers import BrowserOptions, start_browser

    _need_grid()
    full = GridServer(extra_args=("--max-sessions", "1")).start()
    blocker = None
    proc: subprocess.Popen | None = None
    try:
        blocker = start_browser(BrowserOptions(kind="remote", grid_url=full.url, chrome_binary="/usr/bin/chromium"),
                                None)  # takes the only slot
        env = cli_env(tmp_path, ROBOTS_PORTAL_URL=sandbox.url, ROBOTS_CHROME_BINARY="/usr/bin/chromium")
        proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "run", str(FLOWS / "hold.yaml"), "--browser",
                                 "remote", "--grid-url", full.url], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=env)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
        reader.start()

        def queued() -> int:
            answer = httpx.post(f"{full.url}/graphql", json={"query": "{ grid { sessionQueueSize } }"}).json()
            return answer["data"]["grid"]["sessionQueueSize"]

        deadline = time.monotonic() + 60
        while queued() < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert queued() == 1, f"the run's session request never reached the Grid's queue: {lines}"
        proc.send_signal(signal.SIGINT)
        held = "robots: stopping once the Selenium Grid has created the session (signal again to stop now)\n"
        while held not in lines and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held in lines
        blocker.quit()  # the slot frees, the queued session is created, and the run ends it
        assert proc.wait(timeout=120) == 130
        reader.join(timeout=10)
        assert lines[-1] == "error: interrupted by SIGINT\n"
        assert lines[-2].startswith("run ") and " interrupted · " in lines[-2]
        assert _grid_idle(full)
    finally:
        if blocker is not None:
            blocker.quit()
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()  # type: ignore[union-attr]
        full.stop()


# ----------------------------------------------------------------------------------------- start failures
NOWHERE = "http://127.0.0.1:9"  # the browser fails to start before any page is opened
CLASS = "BrowserError"  # a browser that cannot start: located at the step that needed it


@pytest.mark.parametrize(("args", "env", "message"), [
    ([], {"ROBOTS_CHROME_BINARY": "/nonexistent/chromium"},
     "error: Chrome not found: /nonexistent/chromium (from $ROBOTS_CHROME_BINARY) is not an executable file; "
     "install Debian's 'chromium' package or set ROBOTS_CHROME_BINARY"),
    (["--browser", "undetected"], {"ROBOTS_CHROMEDRIVER": "/nonexistent/chromedriver"},
     "error: chromedriver not found: /nonexistent/chromedriver (from $ROBOTS_CHROMEDRIVER) is not an executable "
     "file; install Debian's 'chromium-driver' package or set ROBOTS_CHROMEDRIVER"),
    (["--browser", "undetected"], {"ROBOTS_CHROMEDRIVER": "/bin/false"},  # an executable that is no chromedriver
     "error: chromedriver (/bin/false) exited as it started; install Debian's 'chromium-driver' package or set "
     "ROBOTS_CHROMEDRIVER to a working chromedriver"),
    ([], {"ROBOTS_CHROME_BINARY": "/bin/true"},  # ...and one that is no Chrome
     "error: Chrome (/bin/true) did not start: check that `/bin/true --version` runs; install Debian's 'chromium' "
     "package or set ROBOTS_CHROME_BINARY to a working Chrome"),
    (["--browser", "remote", "--grid-url", "http://127.0.0.1:9"], {},
     "error: could not reach the Selenium Grid at http://127.0.0.1:9 ([Errno 111] Connection refused); start it "
     "(java -jar selenium-server-<version>.jar standalone) or set browser.grid_url in the flow, ROBOTS_GRID_URL, "
     "or --grid-url"),
])
def test_a_browser_that_cannot_start_says_what_to_install_or_set(tmp_path, args, env, message):
    run = run_flow_cli([str(FLOWS / "sign_in_page.yaml"), *args], tmp_path,
                       env={"ROBOTS_PORTAL_URL": NOWHERE, **env})
    assert run.returncode == 3, run.stderr
    assert run.stderr.splitlines()[-2] == message
    assert run.stderr.splitlines()[-1].endswith(f"sign_in_page.yaml:7: steps[0].open (technical: {CLASS})")


@pytest.mark.parametrize("kind", ["chromium", "undetected"])
def test_chromedriver_on_a_fixed_port_that_is_taken(kind, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_flow_cli([str(FLOWS / "sign_in_page.yaml"), "--browser", kind], tmp_path,
                           env={"ROBOTS_PORTAL_URL": NOWHERE, "ROBOTS_CHROMEDRIVER_PORT": str(port)})
    assert run.returncode == 3, run.stderr
    assert run.stderr.splitlines()[-1].endswith(f"sign_in_page.yaml:7: steps[0].open (technical: {CLASS})")
    assert run.stderr.splitlines()[-2] == (
        f"error: chromedriver's port {port} (ROBOTS_CHROMEDRIVER_PORT) is in use: stop what listens there, or unset "
        "ROBOTS_CHROMEDRIVER_PORT to let chromedriver take a free port")


def test_chromedriver_on_a_fixed_free_port(sandbox, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = run_flow_cli([str(FLOWS / "sign_in_page.yaml")], tmp_path,
                       env={"ROBOTS_PORTAL_URL": sandbox.url, "ROBOTS_CHROMEDRIVER_PORT": str(port)})
    assert run.returncode == 0, run.stderr
    [run_dir] = run.run_dirs
    # (that the port is honoured shows in the test above: a taken one fails the start)
    # chromedriver's log keeps warnings only: never the commands, whose arguments include typed secrets
    assert "COMMAND" not in (run_dir / "chromedriver.log").read_text()
    assert tracked_pids_alive(run_dir) == []


def test_a_grid_url_where_something_else_answers(sandbox, tmp_path):
    run = run_flow_cli([str(FLOWS / "sign_in_page.yaml"), "--browser", "remote", "--grid-url", sandbox.url],
                       tmp_path, env={"ROBOTS_PORTAL_URL": sandbox.url})
    assert run.returncode == 3, run.stderr
    assert run.stderr.splitlines()[-1].endswith(f"sign_in_page.yaml:7: steps[0].open (technical: {CLASS})")
    assert run.stderr.splitlines()[-2] == (
        f"error: {sandbox.url} does not answer as a Selenium Grid (GET /status: HTTP 404); start a Grid there or "
        "set browser.grid_url in the flow, ROBOTS_GRID_URL, or --grid-url")


def test_a_grid_port_in_use_is_refused_before_java_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BrowserError) as e:
            GridServer(port=port).start()
    assert str(e.value) == (f"port {port} is in use: stop what listens there or start the Grid on another port "
                            "(0 picks a free one)")
