"""The one settings object (robots/settings.py): every ROBOTS_* variable typed, defaulted and explained there, bad
values named, the README's table generated from it, and no other module reading ROBOTS_* from the environment."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from robots.errors import ConfigError
from robots.settings import Settings, settings, settings_table

ROOT = Path(__file__).resolve().parents[1]
ROBOTS = ROOT / "robots"


def test_defaults_without_any_variable() -> None:
    got = settings({})
    assert (got.home, got.database_url, got.max_browsers, got.browser, got.chromedriver_port, got.webhook_backoff,
            got.api_max_body_bytes, got.api_max_upload_bytes, got.api_anonymous_rate_limit, got.api_ip_rate_limit,
            got.api_portals, got.api_flows, got.webhook_allow_networks) == (
        Path(".robots"), None, 2, None, 0, 5.0, 1024 * 1024, 25 * 1024 * 1024, 30, 600, (), (), ())


def test_values_are_typed_and_an_empty_one_is_unset() -> None:
    got = settings({"ROBOTS_HOME": "/srv/robots", "ROBOTS_MAX_BROWSERS": " 5 ", "ROBOTS_DATABASE_URL": "",
                    "ROBOTS_API_PORTALS": "https://a.example/, acme=https://b.example",
                    "ROBOTS_API_FLOWS": "sera/list_*,sera/get_*", "ROBOTS_WEBHOOK_BACKOFF": "0.2",
                    "ROBOTS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8, 10.1.0.0/16", "ROBOTS_VAULT_KEY": "k3y"})
    assert (got.home, got.max_browsers, got.database_url, got.api_portals, got.api_flows, got.webhook_backoff) == (
        Path("/srv/robots"), 5, None, ("https://a.example", "acme=https://b.example"),
        ("sera/list_*", "sera/get_*"), 0.2)
    assert [str(n) for n in got.webhook_allow_networks] == ["127.0.0.0/8", "10.1.0.0/16"]
    assert got.vault_key is not None and got.vault_key.get_secret_value() == "k3y"
    assert "k3y" not in repr(got)  # the vault key never shows in a repr or a log line


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("ROBOTS_MAX_BROWSERS", "two", "ROBOTS_MAX_BROWSERS must be a whole number of 1 or more, got 'two'"),
    ("ROBOTS_MAX_BROWSERS", "0", "ROBOTS_MAX_BROWSERS must be a whole number of 1 or more, got '0'"),
    ("ROBOTS_API_IP_RATE_LIMIT", "lots", "ROBOTS_API_IP_RATE_LIMIT must be a whole number above 0, got 'lots'"),
    ("ROBOTS_API_MAX_BODY_BYTES", "-1", "ROBOTS_API_MAX_BODY_BYTES must be a whole number above 0, got '-1'"),
    ("ROBOTS_CHROMEDRIVER_PORT", "70000", "ROBOTS_CHROMEDRIVER_PORT must be a port number, got '70000'"),
    ("ROBOTS_BROWSER", "edge", "ROBOTS_BROWSER: unknown browser kind 'edge'; use one of chromium, undetected, "
                               "remote"),
    ("ROBOTS_WEBHOOK_BACKOFF", "soon", "ROBOTS_WEBHOOK_BACKOFF must be a number of seconds (0 or more), got 'soon'"),
    ("ROBOTS_WEBHOOK_ALLOW_NETWORKS", "10.0.0.0/8,intranet", "ROBOTS_WEBHOOK_ALLOW_NETWORKS: 'intranet' is not a "
                                                             "network (a CIDR such as 10.1.0.0/16, comma-separated)"),
])
def test_a_bad_value_names_the_variable_and_what_it_expects(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings({variable: value})
    assert str(caught.value) == message


def test_two_bad_values_are_both_named() -> None:
    with pytest.raises(ConfigError) as caught:
        settings({"ROBOTS_MAX_BROWSERS": "two", "ROBOTS_BROWSER": "edge"})
    assert str(caught.value) == ("ROBOTS_BROWSER: unknown browser kind 'edge'; use one of chromium, undetected, "
                                 "remote; ROBOTS_MAX_BROWSERS must be a whole number of 1 or more, got 'two'")


def test_it_reads_the_environment_as_it_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOTS_MAX_BROWSERS", "3")
    assert settings().max_browsers == 3
    monkeypatch.setenv("ROBOTS_MAX_BROWSERS", "4")
    assert settings().max_browsers == 4
    monkeypatch.delenv("ROBOTS_MAX_BROWSERS")
    assert settings().max_browsers == 2


def test_a_bad_setting_is_exit_code_2_with_its_message_whatever_the_command(tmp_path: Path) -> None:
    """Any command reads the one settings object, so any of them refuses a bad value (`robots runs` never
    looked at ROBOTS_BROWSER before), and never with a traceback."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ROBOTS_HOME": str(tmp_path),
           "ROBOTS_DATABASE_URL": f"sqlite:///{tmp_path}/robots.db", "ROBOTS_BROWSER": "edge"}
    done = subprocess.run([sys.executable, "-m", "robots.cli", "runs"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (
        2, "error: ROBOTS_BROWSER: unknown browser kind 'edge'; use one of chromium, undetected, remote\n")


def test_every_field_has_a_meaning() -> None:
    assert [name for name, info in Settings.model_fields.items() if not info.description] == []


def test_the_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- settings:begin[^\n]*-->\n(.*?)<!-- settings:end -->", readme, re.S)
    assert found, "README.md has no <!-- settings:begin --> ... <!-- settings:end --> block"
    assert found.group(1) == settings_table("markdown"), (
        "README.md's settings table is stale: paste `robots settings --format markdown` between its markers")


def test_the_table_lists_every_variable_the_code_names() -> None:
    """A ROBOTS_* name in the code that the table does not list is a setting someone forgot to declare."""
    table = settings_table("markdown")
    named = set()
    for path in ROBOTS.rglob("*.py"):
        named |= set(re.findall(r"\bROBOTS_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    listed = set(re.findall(r"`(ROBOTS_[A-Z0-9_]+)`", table))
    secrets = {n for n in named if n.startswith("ROBOTS_SECRET_") and n != "ROBOTS_SECRET_COMMAND"}
    assert sorted(named - listed - secrets) == []


# ------------------------------------------------------------------------------ no stray environment reads
#: modules that may still touch ROBOTS_* variables in the environment, and why
ALLOWED = {
    "robots/settings.py": "the one reader",
}


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "ROBOTS_..." constants (a read through such a name is a read all the same)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def _robots_key(node: ast.AST, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        value = node.value
    elif isinstance(node, ast.Name) and node.id in constants:
        value = constants[node.id]
    else:
        return None
    return value if value.startswith("ROBOTS_") else None


def stray_reads(source: str) -> list[tuple[int, str]]:
    """(line, variable) of every read of a ROBOTS_* key: `x[...]` (not an assignment to it), `x.get(...)`,
    `x.pop(...)`, `x.setdefault(...)`, `os.getenv(...)`. Building a child's environment (`{**os.environ, "ROBOTS_HOME":
    ...}`, `env["ROBOTS_X"] = ...`) is not a read."""
    tree = ast.parse(source)
    constants = _constants(tree)
    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = _robots_key(node.slice, constants)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            if ((isinstance(func, ast.Attribute) and func.attr in ("get", "pop", "setdefault", "getenv"))
                    or (isinstance(func, ast.Name) and func.id == "getenv")):
                key = _robots_key(node.args[0], constants)
        if key:
            found.append((node.lineno, key))
    return found


def test_the_scanner_sees_each_way_of_reading() -> None:
    source = ('import os\nNAME = "ROBOTS_X"\na = os.environ.get("ROBOTS_HOME")\nb = os.environ["ROBOTS_Y"]\n'
              'c = os.getenv(NAME)\nenv = {**os.environ, "ROBOTS_Z": "1"}\nenv["ROBOTS_W"] = "2"\n'
              'd = os.environ.get("HOME")\n')
    assert stray_reads(source) == [(3, "ROBOTS_HOME"), (4, "ROBOTS_Y"), (5, "ROBOTS_X")]


def test_no_module_but_settings_reads_robots_variables() -> None:
    strays = []
    for path in sorted(ROBOTS.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED:
            continue
        strays += [f"{rel}:{line}: {key}" for line, key in stray_reads(path.read_text(encoding="utf-8"))]
    assert strays == [], "read these through robots.settings.settings() (or allow-list them with a reason)"
