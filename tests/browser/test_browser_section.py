"""The flow's `browser:` section (no browser starts here): validated at load time with file:line:column
messages, exported in `robots schema`, shown by `robots explain`, and layered with the environment and the
command line in one order (flow < ROBOTS_BROWSER / ROBOTS_GRID_URL < --browser / --grid-url / --headed)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from robots.browser.drivers import BrowserOptions, start_error
from robots.browser.settings import BrowserOverrides, resolve_options
from robots.errors import FlowError, InputError
from robots.flow.explain import explain
from robots.flow.loader import load_flow
from robots.flow.schema import flow_schema
from robots.testing import run_flow_cli

FLOW = """\
name: t
browser:
{section}
steps:
  - open: https://x.test/
"""


def _load(tmp_path: Path, section: str):
    path = tmp_path / "flow.yaml"
    path.write_text(FLOW.format(section=textwrap.indent(textwrap.dedent(section).strip("\n"), "  ")))
    return load_flow(path)


def _issues(tmp_path: Path, section: str) -> list[str]:
    with pytest.raises(FlowError) as caught:
        _load(tmp_path, section)
    return [str(i).replace(str(tmp_path / "flow.yaml"), "flow.yaml") for i in caught.value.issues]


def test_a_full_section_loads(tmp_path):
    flow = _load(tmp_path, """
        kind: remote
        headless: false
        grid_url: http://127.0.0.1:4444
        window_size: 1280x800
        page_load_timeout: 30
        arguments: [--lang=en-US, --force-device-scale-factor=1]
        binary: /usr/bin/chromium
    """)
    b = flow.browser
    assert (b.kind, b.headless, b.grid_url, b.size, b.page_load_timeout, b.arguments, b.binary) == (
        "remote", False, "http://127.0.0.1:4444", (1280, 800), 30, ["--lang=en-US", "--force-device-scale-factor=1"],
        "/usr/bin/chromium")


def test_every_problem_in_the_section_is_reported_where_it_is(tmp_path):
    assert _issues(tmp_path, """
        kind: firefox
        headles: true
        grid_url: ftp://grid
        window_size: 1366
        page_load_timeout: 0
    """) == [
        "flow.yaml:3:9: browser.kind: input should be 'chromium', 'undetected' or 'remote', got 'firefox'",
        "flow.yaml:4:3: browser: unknown key 'headles' (did you mean 'headless'?)",
        "flow.yaml:5:13: browser.grid_url: 'ftp://grid' is not an http:// or https:// URL",
        "flow.yaml:6:16: browser.window_size: '1366' is not WIDTHxHEIGHT in pixels, like 1366x900",
        "flow.yaml:7:22: browser.page_load_timeout: input should be greater than 0, got 0",
    ]


def test_chrome_flags_must_look_like_flags(tmp_path):
    assert _issues(tmp_path, "arguments: [--lang=en-US, headless]") == [
        "flow.yaml:3:29: browser.arguments.1: a Chrome flag starts with -- and has no spaces (like --lang=en-US), "
        "got 'headless'",
    ]
    assert _issues(tmp_path, "arguments: --lang=en-US") == [
        "flow.yaml:3:14: browser.arguments: expected a list, got '--lang=en-US'",
    ]


def test_a_nested_unknown_key_elsewhere_gets_did_you_mean_too(tmp_path):
    path = tmp_path / "flow.yaml"
    path.write_text("name: t\ntimeouts:\n  stpe: 3\nsteps:\n  - open: https://x.test/\n")
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert [i.message for i in caught.value.issues] == ["unknown key 'stpe' (did you mean 'step'?)"]


def test_explain_shows_the_section(tmp_path):
    flow = _load(tmp_path, "kind: undetected\nheadless: false\narguments: [--lang=en-US]\n")
    assert "  browser: undetected, headed, window 1366x900, arguments --lang=en-US" in explain(flow).splitlines()


def test_the_schema_describes_the_section():
    schema = flow_schema()
    assert schema["properties"]["browser"]["anyOf"][0] == {"$ref": "#/$defs/BrowserSpec"}
    spec = schema["$defs"]["BrowserSpec"]
    assert spec["additionalProperties"] is False
    assert set(spec["properties"]) == {"kind", "headless", "grid_url", "window_size", "page_load_timeout",
                                       "arguments", "binary"}
    assert spec["properties"]["kind"]["enum"] == ["chromium", "undetected", "remote"]
    assert spec["properties"]["arguments"]["items"] == {"type": "string", "pattern": r"^--\S+$"}


# ------------------------------------------------------------------------------------- the settings order
def test_defaults_without_a_section():
    assert resolve_options(None, env={}) == BrowserOptions()


def test_flow_then_environment_then_command_line(tmp_path):
    spec = _load(tmp_path, "kind: undetected\nheadless: false\ngrid_url: http://flow:4444\nwindow_size: 800x600\n"
                           "page_load_timeout: 20\n").browser
    assert resolve_options(spec, env={}, page_load=60) == BrowserOptions(
        kind="undetected", headless=False, grid_url="http://flow:4444", window_size=(800, 600), page_load_timeout=20)
    env = {"ROBOTS_BROWSER": "remote", "ROBOTS_GRID_URL": "http://env:4444"}
    assert (resolve_options(spec, env=env).kind, resolve_options(spec, env=env).grid_url) == ("remote",
                                                                                            "http://env:4444")
    cli = BrowserOverrides(kind="chromium", grid_url="http://cli:4444", headless=True)
    got = resolve_options(spec, env=env, overrides=cli)
    assert (got.kind, got.grid_url, got.headless) == ("chromium", "http://cli:4444", True)
    # --headed is an override only when given: the flow's headless: false stays without it.
    assert resolve_options(spec, env=env, overrides=BrowserOverrides()).headless is False


def test_timeouts_page_load_is_the_default_page_load_timeout(tmp_path):
    spec = _load(tmp_path, "kind: chromium\n").browser
    assert resolve_options(spec, env={}, page_load=45).page_load_timeout == 45


@pytest.mark.parametrize(("env", "overrides", "message"), [
    ({"ROBOTS_BROWSER": "edge"}, None, "ROBOTS_BROWSER: unknown browser kind 'edge'; use one of chromium, "
                                       "undetected, remote"),
    ({}, BrowserOverrides(kind="firefox"), "--browser: unknown browser kind 'firefox'; use one of chromium, "
                                           "undetected, remote"),
    ({"ROBOTS_BROWSER": "remote"}, None, "the remote browser needs a Selenium Grid URL: set browser.grid_url in "
                                         "the flow, ROBOTS_GRID_URL, or --grid-url"),
    ({}, BrowserOverrides(kind="remote", grid_url="grid:4444"), "the Selenium Grid URL must start with http:// or "
                                                                "https://, got 'grid:4444'"),
])
def test_bad_settings_are_input_errors(env, overrides, message):
    with pytest.raises(InputError) as caught:
        resolve_options(None, env=env, overrides=overrides)
    assert str(caught.value) == message


def test_the_command_line_refuses_a_bad_kind_before_anything_starts(tmp_path):
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW.format(section="  kind: chromium"))
    run = run_flow_cli([str(flow), "--browser", "firefox"], tmp_path, env={"ROBOTS_PORTAL_URL": "http://127.0.0.1:9"})
    assert (run.returncode, run.stdout, run.stderr) == (
        2, "", "error: --browser: unknown browser kind 'firefox'; use one of chromium, undetected, remote\n")
    assert run.run_dirs == []
    run = run_flow_cli([str(flow), "--browser", "remote"], tmp_path, env={"ROBOTS_PORTAL_URL": "http://127.0.0.1:9"})
    assert (run.returncode, run.stderr) == (2, "error: the remote browser needs a Selenium Grid URL: set "
                                               "browser.grid_url in the flow, ROBOTS_GRID_URL, or --grid-url\n")


def test_a_driver_for_another_chrome_says_what_to_install():
    # chromedriver's own words when its major version is not Chrome's (SessionNotCreatedException).
    text = ("session not created: This version of ChromeDriver only supports Chrome version 114\n"
            "Current browser version is 156.0.8078.108 with binary path /usr/bin/chromium")
    assert str(start_error(Exception(text), "/usr/bin/chromium", "/opt/chromedriver")) == (
        "chromedriver (/opt/chromedriver) is for Chrome 114 but Chrome (/usr/bin/chromium) is 156: install matching "
        "versions (Debian: apt-get install chromium chromium-driver) or set ROBOTS_CHROMEDRIVER to a chromedriver "
        "for Chrome 156")
