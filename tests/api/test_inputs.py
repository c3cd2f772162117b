"""The API takes a flow's vars as the command line does (robots.flow.vars): a list var given as text is parsed from
JSON or YAML flow syntax, and every bad one is refused at once with 422 naming each var, before a run starts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from api.conftest import ApiClient, bearer, token
from api.test_contracts import envelope, wait_for_run

LIST = "var 'lines' must be a list in JSON or YAML flow syntax, like [a, b] or [{code: DIA-100, quantity: 1}]; "


def test_a_bad_list_is_422_naming_the_var_and_no_run_starts(client: ApiClient, tmp_path: Path) -> None:
    headers = bearer(token(client, "flows:run", "runs:read"))
    message = (LIST + "'[{code: DIA-100, quantity: 1}' is not: at column 30: YAML syntax error: expected ',' or ']', "
                      "but got '<stream end>'")
    error = envelope(client.post("/flows/order_lines/runs", headers=headers,
                                 json={"vars": {"lines": "[{code: DIA-100, quantity: 1}"}}),
                     422, "invalid_input", message)
    assert error["details"] == [{"loc": ["body", "vars", "lines"], "field": "vars.lines", "msg": message,
                                 "type": "value_error"}]

    error = envelope(client.post("/flows/order_lines/runs", headers=headers, json={"vars": {"rush": "soon"}}),
                     422, "invalid_input", "2 problems with the vars: var 'lines' is required; var 'rush' must be a "
                                           "boolean, got 'soon'")
    assert [(d["field"], d["msg"]) for d in error["details"]] == [
        ("vars.lines", "var 'lines' is required"), ("vars.rush", "var 'rush' must be a boolean, got 'soon'")]
    conn = sqlite3.connect(tmp_path / "robots.db")
    try:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    finally:
        conn.close()


def test_a_list_given_as_text_is_parsed_as_on_the_command_line(client: ApiClient) -> None:
    headers = bearer(token(client, "flows:run", "runs:read"))
    r = client.post("/flows/order_lines/runs", headers=headers,
                    json={"vars": {"lines": "[{code: DIA-100, quantity: 1}, {code: FLT-200, quantity: 2}]"}})
    assert r.status_code == 202, r.text
    run = wait_for_run(client, headers, r.headers["Location"], lambda b: b["status"] != "running")
    assert (run["status"], run["outputs"]) == ("passed", {"count": 2, "codes": ["DIA-100", "FLT-200"]})
