"""Flow validation as a user sees it: every problem in a flow file is reported at once, each as
`file:line:col: where: message`, and validating never starts a browser (STYLE rules 3 and 13)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from robots.errors import FlowError
from robots.flow.loader import load_flow

REPO = Path(__file__).resolve().parents[2]
ROBOTS = Path(sys.executable).with_name("robots")  # the venv's console script


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with the repo's Sera selector catalogs; the flow files are written into it and
    named relatively, as a user typing `robots validate flow.yaml` in that folder would."""
    shutil.copytree(REPO / "selectors" / "sera", tmp_path / "selectors" / "sera")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(text: str, name: str = "flow.yaml") -> str:
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    Path(name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return name


def issues(text: str, name: str = "flow.yaml") -> list[str]:
    path = write(text, name)
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    return [str(i) for i in caught.value.issues]


# Every flow below starts with these two lines, so that line 3 is the first line of the rest.
HEAD = "name: t\nportal: sera\n"

CASES = {
    "unknown step, with did-you-mean": (
        HEAD + "steps:\n  - open: https://x.test/\n  - clik: login.submit\n",
        ["flow.yaml:5:5: steps[1]: unknown step 'clik' (did you mean 'click'?)"],
    ),
    "unknown argument": (
        HEAD + "steps:\n  - fill: {target: login.username, value: x, clr: false}\n",
        ["flow.yaml:4:46: steps[0].fill: unknown argument 'clr' (did you mean 'clear'?)"],
    ),
    "missing required argument": (
        HEAD + "steps:\n  - fill: {target: login.username}\n",
        ["flow.yaml:4:11: steps[0].fill: missing required argument 'value'"],
    ),
    "wrong type": (
        HEAD + "steps:\n"
        "  - paginate:\n"
        "      next: customers.next_page\n"
        "      max_pages: lots\n"
        "      steps:\n"
        "        - click: customers.search\n",
        ["flow.yaml:6:18: steps[0].paginate.max_pages: expected an integer, got 'lots'"],
    ),
    "max_pages must be positive": (
        HEAD + "steps:\n"
        "  - paginate:\n"
        "      next: customers.next_page\n"
        "      max_pages: 0\n"
        "      steps:\n"
        "        - click: customers.search\n",
        ["flow.yaml:6:18: steps[0].paginate.max_pages: input should be greater than 0, got 0"],
    ),
    "paginate without max_pages": (
        HEAD + "steps:\n"
        "  - paginate:\n"
        "      next: customers.next_page\n"
        "      steps:\n"
        "        - click: customers.search\n",
        ["flow.yaml:5:7: steps[0].paginate: missing required argument 'max_pages'"],
    ),
    "unknown selector name, with did-you-mean": (
        HEAD + "steps:\n  - click: login.submt\n",
        ["flow.yaml:4:12: steps[0].click.target: unknown selector 'login.submt' (did you mean 'login.submit'?)"],
    ),
    "unknown selector name, nothing close": (
        HEAD + "steps:\n  - click: checkout.pay\n",
        ["flow.yaml:4:12: steps[0].click.target: unknown selector 'checkout.pay' (not in the catalog selectors/sera)"],
    ),
    "unknown selector in a fail_on key": (
        HEAD + "steps:\n  - wait_for: {target: nav.main, fail_on: {login.eror: nope}}\n",
        ["flow.yaml:4:43: steps[0].wait_for.fail_on: unknown selector 'login.eror' (did you mean 'login.error'?)"],
    ),
    "unknown selector inside paginate": (
        HEAD + "steps:\n"
        "  - paginate:\n"
        "      next: customers.next_page\n"
        "      max_pages: 3\n"
        "      steps:\n"
        "        - click: customers.serch\n",
        ["flow.yaml:8:18: steps[0].paginate.steps[0].click.target: unknown selector 'customers.serch' "
         "(did you mean 'customers.search'?)"],
    ),
    "raw selector with an unknown strategy prefix": (
        HEAD + "steps:\n  - click: 'csss:#go'\n",
        ["flow.yaml:4:12: steps[0].click.target: selector 'csss:#go' has an unknown strategy 'csss:'; use one of "
         "'css:', 'xpath:', 'id:', 'name:', 'data-cy:', 'text:', 'link:', 'label:'"],
    ),
    "YAML syntax error": (
        HEAD + "steps:\n  - open: [https://x.test/\n  - click: login.submit\n",
        ["flow.yaml:5:10: YAML syntax error: expected ',' or ']', but got ':'"],
    ),
    "tab indentation": (
        HEAD + "steps:\n  - wait_for:\n\t  target: nav.main\n",
        ["flow.yaml:5:1: YAML syntax error: tab character used for indentation; indent with spaces"],
    ),
    "duplicate key in a step": (
        HEAD + "steps:\n  - fill:\n      target: login.username\n      value: a\n      value: b\n",
        ["flow.yaml:7:7: steps[0].fill: duplicate key 'value' (first defined on line 6)"],
    ),
    "duplicate top-level key": (
        HEAD + "steps:\n  - click: login.submit\nsteps:\n  - click: login.submit\n",
        ["flow.yaml:5:1: duplicate key 'steps' (first defined on line 3)"],
    ),
    "template reads an undeclared var": (
        HEAD + "vars:\n  q: ''\nsteps:\n  - open: \"https://x.test/?q={{ vars.query }}\"\n",
        ["flow.yaml:6:11: steps[0].open: unknown var 'query' in '{{ vars.query }}' (declare it under 'vars:')"],
    ),
    "template reads an undeclared secret": (
        HEAD + "secrets: [sera_password]\n"
        "steps:\n  - fill: {target: login.password, value: \"{{ secrets.sera_pasword }}\"}\n",
        ["flow.yaml:5:43: steps[0].fill.value: unknown secret 'sera_pasword' in '{{ secrets.sera_pasword }}' "
         "(did you mean 'sera_password'?)"],
    ),
    "template reads an unknown root name": (
        HEAD + "steps:\n  - open: \"{{ portl.url }}/login\"\n",
        ["flow.yaml:4:11: steps[0].open: unknown name 'portl' in template (did you mean 'portal'?); "
         "templates can read vars, secrets, steps, portal, run, loop, env, now"],
    ),
    "template reads an unknown step id": (
        HEAD + "outputs: [customers]\n"
        "steps:\n  - open: {url: https://x.test/, id: home}\n"
        "  - set_output: {customers: \"{{ steps.hom.output }}\"}\n",
        ["flow.yaml:6:29: steps[1].set_output.customers: unknown step id 'hom' in '{{ steps.hom }}' "
         "(did you mean 'home'?)"],
    ),
    "Jinja syntax error": (
        HEAD + "steps:\n  - open: \"{{ portal.url }/login\"\n",
        ["flow.yaml:4:11: steps[0].open: template syntax error: unexpected '}'"],
    ),
    "duplicate step id": (
        HEAD + "steps:\n  - open: {url: https://x.test/, id: home}\n  - open: {url: https://x.test/a, id: home}\n",
        ["flow.yaml:5:39: steps[1].open.id: duplicate step id 'home' (first used at line 4)"],
    ),
    "set_output of an undeclared output": (
        HEAD + "outputs: [customers]\nsteps:\n  - set_output: {customer: x}\n",
        ["flow.yaml:5:18: steps[0].set_output.customer: output 'customer' is not declared "
         "(did you mean 'customers'?)"],
    ),
    "set_output with no outputs declared at all": (
        HEAD + "steps:\n  - set_output: {rows: x}\n",
        ["flow.yaml:4:18: steps[0].set_output.rows: output 'rows' is not declared (declare it under 'outputs:')"],
    ),
    "step arguments beside the step name instead of under it": (
        HEAD + "steps:\n  - wait_for:\n    target: nav.main\n    state: visible\n",
        ["flow.yaml:4:5: steps[0]: the arguments of 'wait_for' must be indented under it "
         "(found 'target', 'state' beside it)"],
    ),
    "a literal value where a choice is expected": (
        HEAD + "steps:\n  - wait_for: {target: nav.main, state: hidden}\n",
        ["flow.yaml:4:41: steps[0].wait_for.state: input should be 'visible', 'present', 'clickable' or 'gone', "
         "got 'hidden'"],
    ),
    "a var's choices of another type than the var's, and choices of a list var": (
        HEAD + "vars:\n  size: {default: 50, type: integer, choices: [25, '50']}\n  ids: {type: list, choices: [a]}\n"
        "steps:\n  - open: \"https://x.test/?n={{ vars.size }}\"\n",
        ["flow.yaml:4:9: vars.size: every choice of an integer var must be an integer; '50' is not",
         "flow.yaml:5:8: vars.ids: choices are for string, integer, number or boolean vars, not a list"],
    ),
    "unknown top-level key": (
        HEAD + "output: [a]\nsteps:\n  - open: https://x.test/\n",
        ["flow.yaml:3:1: unknown key 'output' (did you mean 'outputs'?)"],
    ),
    "setup: true on a nested step or a finally step": (
        HEAD + "steps:\n  - open: {url: 'https://x.test/', setup: true}\n"
        "  - if:\n      condition: \"1 == 1\"\n      steps:\n        - log: {message: a, setup: true}\n"
        "finally:\n  - log: {message: b, setup: true}\n",
        ["flow.yaml:8:29: steps[1].if.steps[0].log.setup: only a top-level step of `steps:` can be marked `setup: "
         "true` (--from-step runs it before the steps it selects); mark the top-level step that holds this one",
         "flow.yaml:10:23: finally[0].log.setup: only a top-level step of `steps:` can be marked `setup: true` "
         "(--from-step runs it before the steps it selects); `finally` steps always run"],
    ),
    "an empty file": ("", ["flow.yaml:1:1: the file is empty"]),
    "a list instead of a flow": ("- open: https://x.test/\n", ["flow.yaml:1:1: a flow must be a mapping, got a list"]),
}


@pytest.mark.parametrize(("text", "expected"), list(CASES.values()), ids=list(CASES))
def test_invalid_flow_reports_exact_message(project: Path, text: str, expected: list[str]) -> None:
    assert issues(text) == expected


def test_missing_file(project: Path) -> None:
    with pytest.raises(FlowError) as caught:
        load_flow("nowhere/flow.yaml")
    assert [str(i) for i in caught.value.issues] == ["nowhere/flow.yaml: no such flow file"]
    assert caught.value.exit_code == 2


def test_several_errors_are_reported_at_once_in_line_order(project: Path) -> None:
    text = """
        name: t
        portal: sera
        vars:
          q: ""
        steps:
          - opne: https://x.test/
          - fill: {target: login.usernme, value: "{{ vars.qq }}"}
          - click: {target: login.submit, wait: 3}
          - open:
              url: "{{ portal.url }}/customers"
              url: "{{ portal.url }}/jobs"
          - paginate:
              next: customers.next_page
              steps:
                - click: 'csss:#x'
        """
    assert issues(text) == [
        "flow.yaml:6:5: steps[0]: unknown step 'opne' (did you mean 'open'?)",
        "flow.yaml:7:20: steps[1].fill.target: unknown selector 'login.usernme' (did you mean 'login.username'?)",
        "flow.yaml:7:42: steps[1].fill.value: unknown var 'qq' in '{{ vars.qq }}' (did you mean 'q'?)",
        "flow.yaml:8:35: steps[2].click: unknown argument 'wait' (did you mean 'write'?)",
        "flow.yaml:11:7: steps[3].open: duplicate key 'url' (first defined on line 10)",
        "flow.yaml:13:7: steps[4].paginate: missing required argument 'max_pages'",
        "flow.yaml:15:18: steps[4].paginate.steps[0].click.target: selector 'csss:#x' has an unknown strategy "
        "'csss:'; use one of 'css:', 'xpath:', 'id:', 'name:', 'data-cy:', 'text:', 'link:', 'label:'",
    ]


def test_the_repo_flow_loads_cleanly() -> None:
    flow = load_flow(REPO / "flows" / "sera" / "list_customers.yaml")
    assert flow.name == "list_customers"
    assert flow.portal == "sera"
    assert flow.secrets == ()
    assert flow.all_secrets() == ("sera_username", "sera_password", "sera_totp", "sera_mfa_to")
    assert flow.all_optional_secrets() == ("sera_totp", "sera_mfa_to")
    assert flow.subflows[str(REPO / "flows" / "sera" / "sign_in.yaml")].session is not None
    assert list(flow.outputs) == ["customers"]
    assert [(c.where, c.kind) for c in flow.walk()] == [
        ("steps[0]", "call"), ("steps[1]", "open"), ("steps[2]", "paginate"),
        ("steps[2].paginate.steps[0]", "extract_table"), ("steps[3]", "set_output"),
    ]
    paginate = flow.steps[2]
    assert (paginate.args.max_pages, paginate.args.collect, paginate.line) == (500, "rows", 40)
    [sign_in] = flow.subflows.values()
    assert [(c.where, c.kind) for c in sign_in.walk()] == [
        ("steps[0]", "open"), ("steps[1]", "login"), ("steps[2]", "mfa"), ("steps[3]", "read_text"),
        ("steps[4]", "set_output"),
    ]


# ---------------------------------------------------------------------------------------------- bugs found
# These show defects in the loader (see the report); they fail until it is fixed.


def test_templates_inside_paginate_steps_are_checked(project: Path) -> None:
    """The loader skips every nested `steps:` list when it looks for templates, so a typo in a template
    inside `paginate` passes validation and only fails at run time, with a browser open."""
    text = """
        name: t
        portal: sera
        steps:
          - paginate:
              next: customers.next_page
              max_pages: 3
              steps:
                - open: "{{ vars.nope }}/x"
        """
    assert issues(text) == [
        "flow.yaml:8:17: steps[0].paginate.steps[0].open: unknown var 'nope' in '{{ vars.nope }}' "
        "(declare it under 'vars:')",
    ]


def test_one_top_level_typo_does_not_cascade_into_false_errors(project: Path) -> None:
    """When the top level fails validation (here: a misspelt key), the loader forgets the flow's portal and
    outputs, so every selector and every set_output is reported wrongly as unknown as well."""
    text = """
        name: t
        portal: sera
        descripton: lists customers
        outputs: [customers]
        steps:
          - click: login.submit
          - set_output: {customers: x}
        """
    assert issues(text) == ["flow.yaml:3:1: unknown key 'descripton' (did you mean 'description'?)"]


def test_catalog_is_found_when_the_flow_is_named_relative_to_its_own_folder(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cd flows/sera && robots validate list_customers.yaml` reports every selector as unknown: the catalog
    search walks up the parents of the path as typed ('.' has none) instead of the resolved path."""
    write(HEAD + "steps:\n  - click: login.submit\n", "flows/sera/flow.yaml")
    assert load_flow("flows/sera/flow.yaml").name == "t"  # named from the project root: fine
    monkeypatch.chdir(project / "flows" / "sera")
    assert load_flow("flow.yaml").name == "t"


def test_top_level_where_has_no_leading_dot(project: Path) -> None:
    assert issues(HEAD + "timeouts: {step: 0}\nsteps:\n  - open: https://x.test/\n") == [
        "flow.yaml:3:18: timeouts.step: input should be greater than 0, got 0",
    ]


def test_validator_messages_carry_no_pydantic_prefix(project: Path) -> None:
    """Messages from argument validators read "value error, the URL must be ..." (pydantic's wording)."""
    assert issues(HEAD + "steps:\n  - open: /login\n") == [
        "flow.yaml:4:11: steps[0].open.url: the URL must be absolute (http:// or https://); "
        "use '{{ portal.url }}/path', got '/login'",
    ]


def test_pattern_message_matches_the_pattern(project: Path) -> None:
    """`portal: Sera` is told "(letters, digits and _ only)", yet it is only letters: the portal name must be
    lower-case, and the message should say so."""
    (found,) = issues("name: t\nportal: Sera\nsteps:\n  - open: https://x.test/\n")
    assert re.fullmatch(r"flow\.yaml:2:9: portal: 'Sera' .*lower-case.*", found), found


def test_unknown_template_filter_is_reported(project: Path) -> None:
    """Jinja only finds an unknown filter when it compiles the template; the loader only parses it, so
    `| urlencod` passes validation and fails at run time."""
    (found,) = issues(HEAD + "vars:\n  q: ''\nsteps:\n  - open: \"https://x.test/?q={{ vars.q | urlencod }}\"\n")
    assert found.startswith("flow.yaml:6:11: steps[0].open: "), found
    assert "'urlencod'" in found, found


# ------------------------------------------------------------------------------------------------ the CLI


def test_cli_validate_bad_file_exits_2_and_lists_the_problems(project: Path) -> None:
    write(HEAD + "steps:\n  - clik: login.submit\n  - click: login.submt\n", "bad.yaml")
    done = subprocess.run([str(ROBOTS), "validate", "bad.yaml"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "bad.yaml:4:5: steps[0]: unknown step 'clik' (did you mean 'click'?)",
        "bad.yaml:5:12: steps[1].click.target: unknown selector 'login.submt' (did you mean 'login.submit'?)",
        "1 of 1 flow invalid",
    ]


def test_cli_validate_repo_flows_exits_0() -> None:
    done = subprocess.run([str(ROBOTS), "validate", "flows/"], capture_output=True, text=True, timeout=60,
                          cwd=REPO, check=False)
    count = len(list((REPO / "flows").rglob("*.yaml")))
    assert count >= 14  # the Sera robot library
    assert (done.returncode, done.stdout, done.stderr) == (0, "", f"{count} flows valid\n")


# The CLI's own entry point, in a fresh interpreter that records every process it would spawn.
_CHILD = r"""
import json, subprocess, sys
spawned = []
_init = subprocess.Popen.__init__
def _spy(self, args, *a, **k):
    spawned.append(str(args))
    _init(self, args, *a, **k)
subprocess.Popen.__init__ = _spy
from robots.cli import main
try:
    main(["validate", sys.argv[1]])
    code = 0
except SystemExit as e:
    code = e.code
browserish = sorted(m for m in sys.modules if m.split(".")[0] in ("selenium", "undetected_chromedriver")
                    or m in ("robots.engine", "robots.browser.drivers", "robots.browser.processes"))
print(json.dumps({"code": code, "browser_modules": browserish, "spawned": spawned}))
"""


def test_validating_starts_no_browser(project: Path) -> None:
    """Honest version of "no Chrome was started": the validate command neither imports Selenium (nor the
    driver or engine modules) nor spawns any process at all."""
    write(HEAD + "steps:\n  - open: https://x.test/\n  - clik: login.submit\n", "bad.yaml")
    done = subprocess.run([sys.executable, "-c", _CHILD, "bad.yaml"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"code": 2, "browser_modules": [], "spawned": []}
    assert "1 of 1 flow invalid" in done.stderr


def test_a_bare_when_condition_is_checked_like_a_template(project: Path) -> None:
    text = HEAD + "vars:\n  q: ''\nsteps:\n  - open: {url: 'https://x.test/', when: \"vars.qq != ''\"}\n"
    assert issues(text) == [
        "flow.yaml:6:42: steps[0].open.when: unknown var 'qq' in '{{ vars.qq }}' (did you mean 'q'?)",
    ]
