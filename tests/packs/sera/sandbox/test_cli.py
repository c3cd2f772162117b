"""`robots sandbox serve` prints its URL and serves until Ctrl-C; `robots sandbox credentials` prints the
demo account."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx

from robots.packs.sera.sandbox import credentials


def test_serve_prints_its_url_and_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "robots.cli", "sandbox", "serve", "--port", "0", "--size", "small"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        page = httpx.get(url + "/login", timeout=10)
        assert page.status_code == 200 and 'data-cy="login-form"' in page.text
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "sandbox Sera portal ready" in err and "Traceback" not in err


def test_unknown_size_is_an_input_error():
    done = subprocess.run(
        [sys.executable, "-m", "robots.cli", "sandbox", "serve", "--size", "huge"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (2, "error: --size must be one of small, default\n")


def test_credentials_prints_the_demo_account():
    done = subprocess.run(
        [sys.executable, "-m", "robots.cli", "sandbox", "credentials"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == credentials()


def test_serve_with_a_fault_for_the_session():
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "sandbox", "serve", "--size", "small",
                             "--fault", "maintenance:retry_after=60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        page = httpx.get(url + "/login", timeout=10)
        assert page.status_code == 503 and "Sera is down for scheduled maintenance" in page.text
        assert page.headers["retry-after"] == "60"
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_an_unknown_fault_is_an_input_error():
    done = subprocess.run([sys.executable, "-m", "robots.cli", "sandbox", "serve", "--size", "small", "--fault",
                           "nope"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("error: --fault: unknown fault 'nope'; expected one of latency, ")


def test_a_bad_app_latency_is_an_input_error():
    done = subprocess.run([sys.executable, "-m", "robots.cli", "sandbox", "serve", "--size", "small"],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "ROBOTS_SANDBOX_APP_LATENCY": "slow"})  # fmt: skip
    assert (done.returncode, done.stderr) == (2, "error: ROBOTS_SANDBOX_APP_LATENCY must be a delay in milliseconds, "
                                                 "MIN-MAX like 150-400 or one number like 200; got 'slow'\n")
