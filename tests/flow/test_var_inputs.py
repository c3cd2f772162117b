"""A run's inputs are whole before anything starts (issue 18): every var is coerced to its declared type from the
command line (a list or a mapping from JSON or YAML flow syntax), and every missing or invalid one is listed in one
message, with a did-you-mean against `choices`; exit code 2 (README, "Exit codes": invalid input). Real `robots run`
processes; the flows here need neither a portal nor a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robots.testing import run_flow_cli

ROOT = Path(__file__).resolve().parents[2]
WORK_ORDERS = ROOT / "flows/sera/list_work_orders.yaml"

LINES = """\
name: lines
description: Goes through a list of line items and a mapping of options, without a browser.
vars:
  lines: {required: true, type: list}
  options: {default: {}, type: mapping}
outputs:
  codes: {type: list}
  count: {type: integer}
  options: {type: mapping}
steps:
  - for_each:
      id: each
      items: vars.lines
      collect: code
      steps:
        - log: {id: code, message: "{{ loop.item.code }}"}
  - set_output: {codes: "{{ steps.each.output }}", count: "{{ vars.lines | length }}", options: "{{ vars.options }}"}
"""

THREE_REQUIRED = """\
name: contact
vars:
  name: {required: true}
  email: {required: true}
  city: {required: true}
  status: {default: "", choices: [unscheduled, scheduled, dispatched]}
steps:
  - log: "{{ vars.name }}"
"""


def _flow(tmp_path: Path, text: str, name: str = "flow.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("given", [
    '[{"code": "DIA-100", "quantity": 1}, {"code": "FLT-200", "quantity": 2}]',  # JSON, as the API takes it
    "[{code: DIA-100, quantity: 1}, {code: FLT-200, quantity: 2}]",  # YAML flow syntax, as issue 18 typed it
])
def test_a_list_var_is_parsed_from_json_or_yaml_flow_syntax(tmp_path: Path, given: str) -> None:
    flow = _flow(tmp_path, LINES)
    run = run_flow_cli([flow, "--var", f"lines={given}", "--var", "options={rush: true, note: gate code 4}"],
                       tmp_path / "home")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"codes": ["DIA-100", "FLT-200"], "count": 2,
                                      "options": {"rush": True, "note": "gate code 4"}}


@pytest.mark.parametrize(("given", "problem"), [
    ("[{code: DIA-100, quantity: 1}", "'[{code: DIA-100, quantity: 1}' is not: at column 30: YAML syntax error: "
                                      "expected ',' or ']', but got '<stream end>'"),
    ("DIA-100", "got 'DIA-100'"),
    ("{code: DIA-100}", "got '{code: DIA-100}', which reads as a mapping"),
])
def test_a_bad_list_is_refused_naming_the_var_and_what_was_wrong(tmp_path: Path, given: str, problem: str) -> None:
    flow = _flow(tmp_path, LINES)
    run = run_flow_cli([flow, "--var", f"lines={given}"], tmp_path / "home")
    assert (run.returncode, run.stdout, run.stderr) == (2, "", (
        f"error: {flow}: var 'lines' must be a list in JSON or YAML flow syntax, like [a, b] or "
        f"[{{code: DIA-100, quantity: 1}}]; {problem}\n"))
    assert not (tmp_path / "home" / "runs").exists()


def test_every_missing_required_var_is_listed_in_one_message(tmp_path: Path) -> None:
    flow = _flow(tmp_path, THREE_REQUIRED)
    run = run_flow_cli([flow], tmp_path / "home")
    assert (run.returncode, run.stdout, run.stderr) == (2, "", (
        f"error: {flow}: 3 problems with the vars:\n"
        "  var 'name' is required; pass --var name=VALUE\n"
        "  var 'email' is required; pass --var email=VALUE\n"
        "  var 'city' is required; pass --var city=VALUE\n"))


def test_unknown_missing_and_invalid_vars_are_all_listed_with_did_you_mean(tmp_path: Path) -> None:
    flow = _flow(tmp_path, THREE_REQUIRED)
    run = run_flow_cli([flow, "--var", "status=schedulled", "--var", "emial=a@example.com", "--var", "name=Ada"],
                       tmp_path / "home")
    assert (run.returncode, run.stderr) == (2, (
        f"error: {flow}: 4 problems with the vars:\n"
        "  unknown var 'emial' (did you mean 'email'?); the flow declares: name, email, city, status\n"
        "  var 'email' is required; pass --var email=VALUE\n"
        "  var 'city' is required; pass --var city=VALUE\n"
        "  var 'status' must be one of unscheduled, scheduled, dispatched (or the default ''); got 'schedulled' "
        "(did you mean 'scheduled'?)\n"))


def test_a_work_order_status_on_the_command_line_gets_a_did_you_mean(tmp_path: Path) -> None:
    run = run_flow_cli([str(WORK_ORDERS), "--var", "status=schedulled"], tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (2, "", (
        f"error: {WORK_ORDERS}: var 'status' must be one of unscheduled, scheduled, dispatched, in_progress, paused, "
        "on_hold, completed, canceled (or the default ''); got 'schedulled' (did you mean 'scheduled'?)\n"))
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("kind", "given", "expected"), [
    ("integer", "12", 12), ("integer", 12.0, 12), ("number", "2.5", 2.5), ("boolean", "yes", True),
    ("string", 12345, "12345"), ("list", "[a, b]", ["a", "b"]), ("list", ["a"], ["a"]),
    ("mapping", '{"a": 1}', {"a": 1}), ("mapping", "{day: 2025-03-14}", {"day": "2025-03-14"}),
])
def test_coercion_to_the_declared_type(kind: str, given: object, expected: object) -> None:
    from robots.flow.vars import coerce

    assert coerce("v", given, kind) == expected


@pytest.mark.parametrize(("kind", "given", "message"), [
    ("integer", "lots", "var 'v' must be an integer, got 'lots'"),
    ("integer", [1], "var 'v' must be an integer, got a list"),
    ("integer", True, "var 'v' must be an integer, got true"),
    ("boolean", "maybe", "var 'v' must be a boolean, got 'maybe'"),
    ("string", {"a": 1}, "var 'v' must be a string, got a mapping"),
    ("list", {"a": 1}, "var 'v' must be a list, got a mapping"),
    ("mapping", "[a]", "var 'v' must be a mapping in JSON or YAML flow syntax, like {a: 1, b: two}; got '[a]', "
                       "which reads as a list"),
])
def test_a_value_of_another_type_is_refused(kind: str, given: object, message: str) -> None:
    from robots.flow.vars import coerce

    with pytest.raises(ValueError) as caught:
        coerce("v", given, kind)
    assert str(caught.value) == message


def test_a_gherkin_run_checks_its_vars_the_same_way_before_the_portal_opens(tmp_path: Path) -> None:
    """The Gherkin world runs through the one launcher (robots.run.launch.prepare_run), which checks the vars first:
    the same message, and no run is recorded."""
    from robots.errors import InputError
    from robots.packs.sera.bdd import World

    flow = _flow(tmp_path, LINES)
    world = World(portal_url="http://127.0.0.1:9", is_sandbox=False, home=tmp_path / "home", base=tmp_path)
    (tmp_path / "home").mkdir()
    with pytest.raises(InputError) as caught:
        world.run(Path(flow), {"lines": "[{code: DIA-100, quantity: 1}", "options": "rush"})
    assert str(caught.value) == (
        f"{flow}: 2 problems with the vars:\n"
        "  var 'lines' must be a list in JSON or YAML flow syntax, like [a, b] or [{code: DIA-100, quantity: 1}]; "
        "'[{code: DIA-100, quantity: 1}' is not: at column 30: YAML syntax error: expected ',' or ']', but got "
        "'<stream end>'\n"
        "  var 'options' must be a mapping in JSON or YAML flow syntax, like {a: 1, b: two}; got 'rush'")
    assert not (tmp_path / "home" / "runs").exists()
