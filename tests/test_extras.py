"""`pip install robots` is the core: with the extras' libraries (FastAPI, uvicorn, python-multipart,
fastapi-offline, Faker, pytest-bdd) missing, the core commands work and each command that needs one names the extra
to install.

The libraries are made unimportable in the child process (a sitecustomize on its path), which is what a machine
with only the core installed looks like to robots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from robots.testing.helpers import cli_env

ROOT = Path(__file__).resolve().parents[1]
LIST = str(ROOT / "flows/sera/list_customers.yaml")

MISSING = ("fastapi", "starlette", "uvicorn", "multipart", "python_multipart", "fastapi_offline", "faker", "pytest_bdd")
SITE = f"""
import sys

class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {MISSING!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Missing())
"""


@pytest.fixture
def core_only(tmp_path: Path):  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITE)
    home = tmp_path / "home"
    home.mkdir()

    def robots(*args: str) -> subprocess.CompletedProcess[str]:
        env = cli_env(home, PYTHONPATH=str(site))
        return subprocess.run([sys.executable, "-m", "robots.cli", *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120, check=False)  # fmt: skip

    return robots


def test_the_core_commands_work_without_the_extras(core_only):
    for args in (["--help"], ["validate", LIST], ["steps"], ["explain", LIST], ["runs"], ["settings"]):
        done = core_only(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr, args


@pytest.mark.parametrize(("args", "message"), [
    (["serve"], "error: robots serve needs the 'fastapi' library, which comes with robots' 'api' extra: "
                "pip install 'robots[api]'"),
    (["api", "token", "create", "--scope", "admin"],
     "error: robots api token create needs the 'fastapi' library, which comes with robots' 'api' extra: "
     "pip install 'robots[api]'"),
    (["sandbox", "serve"], "error: robots sandbox serve needs the 'fastapi' library, which comes with robots' "
                           "'sandbox' extra: pip install 'robots[sandbox]'"),
    (["sandbox", "credentials"], "error: robots sandbox credentials needs the 'fastapi' library, which comes with "
                                 "robots' 'sandbox' extra: pip install 'robots[sandbox]'"),
    (["bdd", "steps"], "error: robots bdd needs the 'pytest_bdd' library, which comes with robots' 'bdd' extra: "
                       "pip install 'robots[bdd]'"),
    (["run", LIST], "error: the Sera sandbox portal (started when no portal URL is configured) needs the 'fastapi' "
                    "library, which comes with robots' 'sandbox' extra: pip install 'robots[sandbox]'"),
])  # fmt: skip
def test_a_command_that_needs_an_extra_names_it(core_only, args, message):
    done = core_only(*args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr.splitlines(), done.stderr
    assert "Traceback" not in done.stderr
