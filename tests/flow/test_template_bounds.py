"""Templates are bounded: reaching Python internals (`''.__class__`) and arithmetic past the limits are input
errors at validation, naming the file, line and field; the same arithmetic from run-time values is refused at
once; a template that loops too long is ended; and SIGTERM ends a run inside a template with exit 130."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robots.flow import templating
from robots.testing import run_flow_cli
from robots.testing.helpers import cli_env


def _flow(tmp_path: Path, value: str, vars_: str = "{}") -> Path:
    flow = tmp_path / "flow.yaml"
    flow.write_text(f"name: t\nvars: {vars_}\noutputs: [x]\nsteps:\n  - set_output:\n      x: \"{value}\"\n")
    return flow


def validate(tmp_path: Path, flow: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robots.cli", "validate", str(flow)], capture_output=True,
                          text=True, env=cli_env(tmp_path), cwd=tmp_path, timeout=60, check=False)


@pytest.mark.parametrize(("template", "message"), [
    ("{{ ''.__class__.__mro__ }}", "template uses '__class__', which templates may not reach"),
    ("{{ vars.q.__init__.__globals__ }}", "template uses '__init__', which templates may not reach"),
    ("{{ vars.q['__class__'] }}", "template uses '__class__', which templates may not reach"),
    ("{{ (9**99999999) % 7 }}", "template arithmetic 9 ** 99999999 gives a number of more than 10,000 digits; "
                                "templates may compute numbers of at most 10,000 digits"),
    ("{{ 'a' * 10**9 }}", "template arithmetic str * 1000000000 gives more than 1,000,000 characters or items; "
                          "templates may build strings and lists of at most 1,000,000"),
    ("{{ (10**5000) * (10**5000) * 10 }}", "template arithmetic int * 10 gives a number of more than 10,000 digits;"
                                           " templates may compute numbers of at most 10,000 digits"),
])
def test_validate_refuses(tmp_path, template, message):
    flow = _flow(tmp_path, template, "{q: ''}")
    done = validate(tmp_path, flow)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", f"{flow}:6:10: steps[0].set_output.x: {message}\n1 of 1 flow invalid\n")


@pytest.mark.parametrize(("template", "vars_", "message"), [
    ("{{ vars.n ** vars.m }}", "{n: {default: 9, type: integer}, m: {default: 99999999, type: integer}}",
     "template arithmetic 9 ** 99999999 gives a number of more than 10,000 digits; "
     "templates may compute numbers of at most 10,000 digits"),
    ("{{ vars.s * vars.m }}", "{s: {default: ab}, m: {default: 999999999, type: integer}}",
     "template arithmetic str * 999999999 gives more than 1,000,000 characters or items; "
     "templates may build strings and lists of at most 1,000,000"),
    ("{{ vars.s.ljust(vars.m) }}", "{s: {default: ab}, m: {default: 999999999, type: integer}}",
     "ljust(999999999) would give more than 1,000,000 characters; "
     "templates may build strings and lists of at most 1,000,000"),
    ("{{ vars.s | center(vars.m) }}", "{s: {default: ab}, m: {default: 999999999, type: integer}}",
     "center(999999999) would give more than 1,000,000 characters; "
     "templates may build strings and lists of at most 1,000,000"),
    ("{{ ('%0' ~ vars.m ~ 'd') % 1 }}", "{m: {default: 999999999, type: integer}}",
     "a format width of 999999999 would give more than 1,000,000 characters; "
     "templates may build strings and lists of at most 1,000,000"),
])
def test_run_refuses_at_once(tmp_path, template, vars_, message):
    flow = _flow(tmp_path, template, vars_)
    run = run_flow_cli([str(flow)], tmp_path, timeout=60)
    assert run.returncode == 3
    assert run.stderr.endswith(f"error: steps[0].set_output: template failed: {message}\n"
                               f"  at {flow}:5: steps[0].set_output (technical: TechnicalError)\n")


LOOP = ("{% for a in vars.s %}{% for b in vars.s %}{% for c in vars.s %}{% endfor %}{% endfor %}{% endfor %}"
        "done")
LONG = "{s: {default: '" + "x" * 2000 + "'}}"  # 8 billion iterations


def test_a_template_that_loops_too_long_is_ended(tmp_path):
    flow = _flow(tmp_path, LOOP, LONG)
    run = run_flow_cli([str(flow)], tmp_path, timeout=120)
    assert run.returncode == 3
    assert run.stderr.endswith(f"error: steps[0].set_output: template failed: the template ran for more than "
                               f"{templating.MAX_SECONDS} s; templates may run for at most "
                               f"{templating.MAX_SECONDS} s\n"
                               f"  at {flow}:5: steps[0].set_output (technical: TechnicalError)\n")


def test_sigterm_ends_a_run_inside_a_template(tmp_path):
    flow = _flow(tmp_path, LOOP, LONG)
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "run", str(flow)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env(tmp_path), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not list((tmp_path / "runs").glob("*")) and time.monotonic() < deadline:
            time.sleep(0.05)  # back-off: polling for the run's folder (the run has started)
        time.sleep(0.5)  # inside the loop by now (it runs for MAX_SECONDS before it is ended)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "template failed" not in err
    assert err.endswith("error: interrupted by SIGTERM\n")
