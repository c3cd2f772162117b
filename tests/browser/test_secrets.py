"""Secrets never reach an artifact (docs/CONTRACTS.md C4): planted values with `&<>"'%+ ` are looked for, in every
encoding, in every file a run leaves (records database, reports, evidence HTML, process files) and in
everything it prints."""

from __future__ import annotations

import html
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import quote, quote_plus

import pyotp
import pytest

from robots.auth.vault import env_name
from robots.packs.sera.sandbox import credentials
from robots.testing import run_flow_cli
from robots.testing.helpers import cli_env

ROOT = Path(__file__).resolve().parents[2]
FLOW = str(ROOT / "flows/sera/list_customers.yaml")

pytestmark = pytest.mark.browser


def forms(secret: str) -> set[str]:
    """The encodings a value can take in an artifact, spelt out independently of robots.masking."""
    return {secret, html.escape(secret), html.escape(secret, quote=False), quote(secret, safe=""),
            quote_plus(secret), json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=True)[1:-1]}


def test_no_secret_in_any_artifact_or_output(sandbox, sandbox_env, tmp_path):
    creds = credentials()
    planted_user = "robot&<>\"'%+ planted"
    wrong_password = "Wrong pass&<>\"'%+ 42"
    wrong_totp = pyotp.random_base32()
    runs = [
        # passes with the demo account, whose password holds &<>"'%+ and a space; writes both reports
        run_flow_cli([FLOW, "--var", "q=Austin", "-v", "--report", "json", "--report", "junit"], tmp_path,
                     env=sandbox_env),
        # the portal echoes the planted username into the login form that the failure evidence saves
        run_flow_cli([FLOW, "-v", "--report", "html"], tmp_path,
                     env={**sandbox_env, env_name("sera_username"): planted_user,
                          env_name("sera_password"): wrong_password}),
        # the demo account's session from the first run is not reused: the wrong code must be typed
        run_flow_cli([FLOW, "-v", "--report", "html", "--fresh-login"], tmp_path,
                     env={**sandbox_env, env_name("sera_totp"): wrong_totp}),
    ]
    assert [r.returncode for r in runs] == [0, 1, 1], [r.stderr for r in runs]
    evidence_html = list(tmp_path.glob("runs/*/evidence/*.html"))
    assert len(evidence_html) == 2
    # The planted username was in the page the portal served, so masking really had work to do.
    assert any("••••••" in f.read_text() for f in evidence_html)

    # The zip bundle of each run (robots runs export) is an artifact too: unpack it next to the rest.
    for r in runs:
        bundle = tmp_path / "exports" / f"{r.run_id}.zip"
        bundle.parent.mkdir(exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "robots.cli", "runs", "export", r.run_id, "--output",
                               str(bundle)], env=cli_env(tmp_path), capture_output=True, text=True, check=True)
        assert done.returncode == 0
        with zipfile.ZipFile(bundle) as z:
            z.extractall(tmp_path / "exports" / r.run_id)
    assert len(list((tmp_path / "exports").rglob("*.console.json"))) == 2

    secrets = {"password": creds["password"], "totp secret": creds["totp_secret"], "planted username": planted_user,
               "wrong password": wrong_password, "wrong totp secret": wrong_totp}
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert {"robots.db", "report.xml", "report.json", "report.html"} <= {f.name for f in files}
    leaks = []
    for what, secret in secrets.items():
        for form in forms(secret):
            for f in files:
                if form.encode() in f.read_bytes():
                    leaks.append((what, form, str(f.relative_to(tmp_path))))
            for i, r in enumerate(runs):
                if form in r.stdout or form in r.stderr:
                    leaks.append((what, form, f"output of run {i}"))
    assert leaks == []
