"""`robots runs` list filters, prune, export and show, on a real SQLite store (no browser)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from robots.records import SqlStore
from robots.records.model import Evidence, RunRecord
from robots.testing.helpers import cli_env

NOW = datetime.now(UTC)


def robots(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robots.cli", *args], capture_output=True, text=True,
                          env=cli_env(home), cwd=home, timeout=60, check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    store = SqlStore(f"sqlite:///{tmp_path}/robots.db")
    for run_id, age, status in [("old-1", 40, "failed"), ("old-2", 31, "passed"), ("old-running", 45, "running"),
                                ("new-1", 2, "passed"), ("new-2", 0.01, "errored")]:
        run_dir = tmp_path / "runs" / run_id
        (run_dir / "evidence").mkdir(parents=True)
        (run_dir / "evidence" / "step-001.png").write_bytes(b"\x89PNG fake")
        store.save(RunRecord(run_id=run_id, flow_name="list_customers", flow_path="f.yaml", flow_sha256="0" * 64,
                             status=status, started_at=NOW - timedelta(days=age), run_dir=str(run_dir),
                             evidence=(Evidence(step_index=1, screenshot="evidence/step-001.png"),)))
    store.close()
    return tmp_path


def test_runs_since_lists_only_recent_runs(home):
    done = robots(home, "runs", "--since", "3d")
    assert done.returncode == 0, done.stderr
    ids = [line.split()[0] for line in done.stdout.splitlines()[1:]]
    assert ids == ["new-2", "new-1"]


def test_prune_removes_old_records_with_their_folders_but_never_a_running_one(home):
    dry = robots(home, "runs", "prune", "--older-than", "30d", "--dry-run")
    assert (dry.returncode, dry.stdout) == (0, "old-2\nold-1\n")
    assert (home / "runs" / "old-1").is_dir()
    done = robots(home, "runs", "prune", "--older-than", "30d")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "old-2\nold-1\n"
    assert done.stderr.startswith("removed 2 runs started before ")
    assert sorted(p.name for p in (home / "runs").iterdir()) == ["new-1", "new-2", "old-running"]
    left = robots(home, "runs", "--limit", "10").stdout
    assert "old-1" not in left and "old-running" in left


def test_export_bundles_record_and_evidence(home):
    done = robots(home, "runs", "export", "new-1", "--output", str(home / "bundle.zip"))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(home / "bundle.zip") as z:
        assert sorted(z.namelist()) == ["new-1/evidence/step-001.png", "new-1/record.json"]
        assert json.loads(z.read("new-1/record.json"))["run_id"] == "new-1"


@pytest.mark.parametrize(("args", "message"), [
    (["runs", "show", "nope"], "error: no run with id 'nope'\n"),
    (["runs", "export", "nope"], "error: no run with id 'nope'\n"),
    (["runs", "--since", "yesterday"], "error: --since expects a number and a unit (m, h, d or w), like 7d or 12h; "
                                       "got 'yesterday'\n"),
    (["runs", "prune", "--older-than", "30"], "error: --older-than expects a number and a unit (m, h, d or w), "
                                               "like 7d or 12h; got '30'\n"),
    (["runs", "--status", "green"], "error: unknown run status 'green'; known: running, passed, failed, errored, "
                                    "interrupted, skipped, canceled\n"),
])
def test_bad_runs_arguments(home, args, message):
    done = robots(home, *args)
    assert (done.returncode, done.stderr) == (2, message)
