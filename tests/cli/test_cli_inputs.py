"""Bad input to `robots run` is exit 2 with one clear line, before any browser or portal starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from robots.testing import run_flow_cli

ROOT = Path(__file__).resolve().parents[2]
FLOW = str(ROOT / "flows/sera/list_customers.yaml")


@pytest.mark.parametrize(("args", "message"), [
    (["--var", "nope=1"], f"error: {FLOW}: unknown var 'nope'; "
                          "the flow declares: q, type, status, tag, modified_on_or_after, sort, page_size, fetch"),
    (["--var", "pag_size=1"], f"error: {FLOW}: unknown var 'pag_size' (did you mean 'page_size'?); "
                              "the flow declares: q, type, status, tag, modified_on_or_after, sort, page_size, fetch"),
    (["--var", "page_size=lots"], f"error: {FLOW}: var 'page_size' must be an integer, got 'lots'"),
    (["--var", "page_size=30"], f"error: {FLOW}: var 'page_size' must be one of 25, 50, 100; got 30"),
    (["--var", "sort=nmae"], f"error: {FLOW}: var 'sort' must be one of name, -name, created, -created, balance, "
                             "-balance, modified, -modified (or the default ''); got 'nmae' (did you mean 'name'?)"),
    (["--var", "fetch=fast"], f"error: {FLOW}: var 'fetch' must be one of script, page, browser, http; got 'fast'"),
    (["--var", "bad"], "error: --var expects KEY=VALUE, got 'bad'"),
    (["--report", "pdf"], "error: --report: unknown kind 'pdf'; use one of html, json, junit"),
    (["--format", "xml"], "error: --format must be json or table, got 'xml'"),
])
def test_bad_run_options(tmp_path, args, message):
    run = run_flow_cli([FLOW, *args], tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (2, "", message + "\n")
    assert not (tmp_path / "runs").exists()


def test_missing_secrets_name_every_place_looked_in(tmp_path):
    run = run_flow_cli([FLOW], tmp_path, env={"ROBOTS_PORTAL_URL": "http://127.0.0.1:1"})
    assert run.returncode == 2
    assert run.stderr == (
        "error: secrets 'sera_username' and 'sera_password' not found; looked in the environment "
        "(ROBOTS_SECRET_SERA_USERNAME, ROBOTS_SECRET_SERA_PASSWORD), the vault "
        f"({tmp_path}/vault), a command (ROBOTS_SECRET_COMMAND is not set)\n")
    assert not (tmp_path / "runs").exists()


def test_missing_flow_file(tmp_path):
    run = run_flow_cli([str(tmp_path / "nope.yaml")], tmp_path)
    assert (run.returncode, run.stderr) == (2, f"{tmp_path}/nope.yaml: no such flow file\n"
                                               "1 problem found; nothing was run.\n")


def test_validate_json_for_editors(tmp_path):
    import json
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nsteps:\n  - opn: https://x.test/\n")
    done = subprocess.run([sys.executable, "-m", "robots.cli", "validate", str(bad), "--format", "json"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert json.loads(done.stdout) == {"files": 1, "invalid": 1, "problems": [
        {"file": str(bad), "line": 3, "column": 5, "where": "steps[0]",
         "message": "unknown step 'opn' (did you mean 'open'?)"}]}
