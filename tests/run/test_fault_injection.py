"""Faults injected at every stage of a run (load, inputs, each step family, sign-in, finally, the end of the run,
the outputs and the reports): each one ends as a finished record with the right status, one located message on
stderr (the flow file:line, the step path, the class), no traceback (unless -v) and the exit code of the README's
table (0 passed, 1 failed, 2 invalid input, 3 errored, 130 interrupted).

The faults are raised in the child process by a sitecustomize on its PYTHONPATH (which Python honours): it
replaces one function of robots, or one step's function, by one that raises (FAULT_AT names which, FAULT_RAISE the
exception class: a RuntimeError, a bug, unless a class of robots.errors is named). The browser is never faked: the
faulted step raises before it would use it, and the sign-in case drives the real sandbox in a real Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robots.records import SqlStore
from robots.testing import run_flow_cli

ROOT = Path(__file__).resolve().parents[2]

SITE = '''
import os

AT = os.environ.get("FAULT_AT", "")
RAISE = os.environ.get("FAULT_RAISE", "RuntimeError")


def _boom(*args, **kwargs):
    import robots.errors

    cls = getattr(robots.errors, RAISE, None) or {"RuntimeError": RuntimeError, "KeyError": KeyError,
                                                   "KeyboardInterrupt": KeyboardInterrupt}[RAISE]
    raise cls(f"injected fault at {AT}")


if AT == "load":
    import robots.flow.loader
    robots.flow.loader.load_flow = _boom
elif AT == "inputs":
    import robots.flow.vars
    robots.flow.vars.resolve_vars = _boom
elif AT.startswith("step:"):
    import dataclasses
    import robots.steps
    robots.steps.REGISTRY[AT[5:]] = dataclasses.replace(robots.steps.REGISTRY[AT[5:]], func=_boom)
elif AT == "run-end":
    import robots.pool
    robots.pool.Lease.release = _boom
elif AT == "outputs":
    import robots.cli.run
    robots.cli.run.write_outputs = _boom
elif AT == "report":
    import robots.reports
    robots.reports.write_report = _boom
'''

FLOW = """\
name: faults
vars:
  at: {default: none}
  items: {default: [a], type: list}
  file: {default: faults.yaml}
outputs:
  done: {}
steps:
  - for_each:
      items: "{{ vars.items }}"
      steps:
        - if:
            condition: "vars.at != 'none'"
            steps:
              - open: {url: "http://127.0.0.1:9/", when: "vars.at == 'open'"}
              - click: {target: "css:#go", when: "vars.at == 'click'"}
              - wait_for: {target: "css:#done", when: "vars.at == 'wait_for'"}
              - read_text: {target: "css:#total", when: "vars.at == 'read_text'"}
              - http_get: {url: "http://127.0.0.1:9/x", when: "vars.at == 'http_get'"}
              - checksum: {file: "{{ vars.file }}", when: "vars.at == 'checksum'"}
              - assert_text: {text: done, when: "vars.at == 'assert_text'"}
              - set: {n: 1, when: "vars.at == 'set'"}
              - log: {message: in the loop, when: "vars.at == 'log'"}
              - totp: {target: "css:#code", secret: JBSWY3DPEHPK3PXP, when: "vars.at == 'totp'"}
  - set_output: {done: "yes"}
finally:
  - screenshot: {file: end, when: "vars.at == 'finally'"}
"""

NESTED = "steps[0].for_each.steps[0].if.steps"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITE)
    (tmp_path / "faults.yaml").write_text(FLOW)
    return tmp_path


def line_of(text: str) -> int:
    """The line of faults.yaml holding `text` (1-based)."""
    return next(n for n, line in enumerate(FLOW.splitlines(), 1) if text in line)


def run(project: Path, at: str, *args: str, raise_: str = "RuntimeError", flow: str = "faults.yaml",
        env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    extra = {"PYTHONPATH": str(project / "site"), "FAULT_AT": at, "FAULT_RAISE": raise_, **(env or {})}
    return run_flow_cli([flow, *args], project / "home", env=extra, cwd=project, timeout=240)


def records(home: Path) -> list[dict]:
    """The run records in the run's store (its SQLite file), as `robots runs show --json` prints them."""
    if not (home / "robots.db").exists():
        return []
    store = SqlStore(f"sqlite:///{home}/robots.db")
    try:
        return [json.loads(r.model_dump_json()) for r in store.list(limit=5)]
    finally:
        store.close()


def the_record(home: Path) -> dict:
    [record] = records(home)
    assert record["status"] != "running"
    assert record["ended_at"] is not None
    return record


# (the kind faulted, the var `at`, the exception, status, failure kind, exit code, the message, where)
STEP_FAULTS = [
    ("open", "open", "RuntimeError", "errored", "technical", 3,
     "internal error in step 'open': RuntimeError: injected fault at step:open", f"{NESTED}[0].open"),
    ("click", "click", "RuntimeError", "errored", "technical", 3,
     "internal error in step 'click': RuntimeError: injected fault at step:click", f"{NESTED}[1].click"),
    ("wait_for", "wait_for", "KeyError", "errored", "technical", 3,
     "internal error in step 'wait_for': KeyError: 'injected fault at step:wait_for'", f"{NESTED}[2].wait_for"),
    ("read_text", "read_text", "ContractError", "errored", "scrape drift", 3,
     "injected fault at step:read_text", f"{NESTED}[3].read_text"),
    ("http_get", "http_get", "PortalUnreachable", "errored", "technical", 3,
     "injected fault at step:http_get", f"{NESTED}[4].http_get"),
    ("checksum", "checksum", "RuntimeError", "errored", "technical", 3,
     "internal error in step 'checksum': RuntimeError: injected fault at step:checksum", f"{NESTED}[5].checksum"),
    ("assert_text", "assert_text", "BusinessFailure", "failed", "business", 1,
     "injected fault at step:assert_text", f"{NESTED}[6].assert_text"),
    ("set", "set", "RuntimeError", "errored", "technical", 3,
     "internal error in step 'set': RuntimeError: injected fault at step:set", f"{NESTED}[7].set"),
    ("log", "log", "InputError", "errored", "input", 2,
     "injected fault at step:log", f"{NESTED}[8].log"),
    ("totp", "totp", "RuntimeError", "errored", "technical", 3,
     "internal error in step 'totp': RuntimeError: injected fault at step:totp", f"{NESTED}[9].totp"),
    ("for_each", "none", "RuntimeError", "errored", "technical", 3,
     "internal error in step 'for_each': RuntimeError: injected fault at step:for_each", "steps[0].for_each"),
    ("set_output", "none", "RuntimeError", "errored", "technical", 3,
     "internal error in step 'set_output': RuntimeError: injected fault at step:set_output", "steps[1].set_output"),
    ("screenshot", "finally", "RuntimeError", "errored", "technical", 3,
     "internal error in step 'screenshot': RuntimeError: injected fault at step:screenshot", "finally[0].screenshot"),
]

CLASS_NAME = {"technical": "TechnicalError", "business": "BusinessFailure", "input": "InputError"}


@pytest.mark.parametrize(("kind", "at", "raise_", "status", "klass", "code", "message", "where"), STEP_FAULTS,
                         ids=[f[0] for f in STEP_FAULTS])
def test_a_fault_in_a_step_is_located_classified_and_finishes_the_record(project, kind, at, raise_, status, klass,
                                                                         code, message, where):
    done = run(project, f"step:{kind}", "--var", f"at={at}", raise_=raise_)
    error_class = {"RuntimeError": "InternalError", "KeyError": "InternalError"}.get(raise_, raise_)
    marker = {"none": f"- {kind}:", "finally": "- screenshot:"}.get(at, f"vars.at == '{at}'")
    line = line_of(marker)
    located = f"  at faults.yaml:{line}: {where} ({klass}: {error_class})"
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[-2:] == [f"error: {message}", located], done.stderr
    record = the_record(project / "home")
    assert (record["status"], record["failure_kind"], record["error_class"], record["error_message"]) == (
        status, klass.replace(" ", "_"), error_class, message)
    assert record["error_location"] == {"file": "faults.yaml", "line": line, "step": where}


def test_an_input_error_found_by_a_step_is_class_input_exit_2(project):
    """A real fault, no injection: the file the step was given does not exist."""
    done = run(project, "", "--var", "at=checksum", "--var", "file=missing.csv")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-2:] == [
        "error: checksum: no such file 'missing.csv'",
        f"  at faults.yaml:{line_of('checksum')}: {NESTED}[5].checksum (input: InputError)"]
    record = the_record(project / "home")
    assert (record["status"], record["failure_kind"]) == ("errored", "input")


def test_ctrl_c_in_a_step_is_interrupted_130(project):
    done = run(project, "step:set", "--var", "at=set", raise_="KeyboardInterrupt")
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == "error: interrupted by SIGINT"
    assert the_record(project / "home")["status"] == "interrupted"


def test_minus_v_shows_the_traceback_of_an_internal_error(project):
    done = run(project, "step:set", "--var", "at=set", "-v")
    assert done.returncode == 3, done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert "RuntimeError: injected fault at step:set" in done.stderr


@pytest.mark.parametrize(("at", "message"), [
    ("load", "error: faults.yaml: internal error while loading the flow: RuntimeError: injected fault at load"),
    ("inputs", "error: faults.yaml: internal error while reading the vars: RuntimeError: injected fault at inputs"),
])
def test_a_fault_before_the_run_starts_is_located_and_leaves_no_record(project, at, message):
    done = run(project, at)
    assert (done.returncode, done.stderr.splitlines()) == (3, [message]), done.stderr
    assert records(project / "home") == []


def test_a_fault_while_the_run_ends_finishes_the_record_errored(project):
    done = run(project, "run-end")
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    message = "internal error while ending the run: RuntimeError: injected fault at run-end"
    assert done.stderr.splitlines()[-2:] == [f"error: {message}", "  at faults.yaml (technical: InternalError)"]
    record = the_record(project / "home")
    assert (record["status"], record["error_message"]) == ("errored", message)
    assert record["error_location"] == {"file": "faults.yaml", "line": None, "step": None}


@pytest.mark.parametrize(("at", "args", "message"), [
    ("outputs", [], "error: could not write the outputs to stdout: RuntimeError: injected fault at outputs; the "
                    "outputs are in the run's record: robots runs show {run_id} --json"),
    ("outputs", ["--output", "out.json"], "error: --output out.json: could not write it: RuntimeError: injected "
                                          "fault at outputs; the outputs are in the run's record: robots runs show "
                                          "{run_id} --json"),
    ("report", ["--report", "html=r.html"], "error: --report html: could not write r.html: RuntimeError: "
                                            "injected fault at report"),
])
def test_a_fault_while_delivering_a_passed_run_keeps_it_passed_and_exits_3(project, at, args, message):
    done = run(project, at, *args)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    record = the_record(project / "home")
    assert record["status"] == "passed"
    assert message.format(run_id=record["run_id"]) in done.stderr.splitlines(), done.stderr


@pytest.mark.browser
def test_a_fault_during_the_sign_in_is_located_in_the_sign_in_flow(sandbox, sandbox_env, project):
    done = run(project, "step:mfa", "--var", "id=1003", flow=str(ROOT / "flows/sera/get_customer.yaml"),
               env=sandbox_env)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    sign_in = ROOT / "flows/sera/sign_in.yaml"
    line = next(n for n, text in enumerate(sign_in.read_text().splitlines(), 1) if text.startswith("  - mfa:"))
    where = f"{sign_in}:{line}: steps[2].mfa (technical: InternalError)"
    assert done.stderr.splitlines()[-3:-1] == [
        "error: internal error in step 'mfa': RuntimeError: injected fault at step:mfa", f"  at {where}"]
    record = the_record(project / "home")
    assert (record["status"], record["error_class"]) == ("errored", "InternalError")
    assert record["error_location"] == {"file": str(sign_in), "line": line, "step": "steps[2].mfa"}
