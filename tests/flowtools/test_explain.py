"""`robots explain`: a loaded flow as indented text, selectors resolved to their candidates, templates
shown as written (never rendered, so secrets never appear)."""

from __future__ import annotations

from pathlib import Path

import pytest

from robots.flow.explain import explain
from robots.flow.loader import load_flow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def test_list_customers(in_repo):
    lines = explain(load_flow("flows/sera/list_customers.yaml")).splitlines()
    assert lines[:8] == [
        "flow list_customers (flows/sera/list_customers.yaml)",
        "  Sign in to Sera (password + TOTP) and list every customer, following pagination to the end.",
        "  portal: sera",
        f"  selectors: {Path('selectors/sera')} (14 entries)",
        '  vars: q = "", page_size = 50 [integer]',
        "  secrets: sera_username, sera_password, sera_totp",  # the called sign_in flow's
        "  outputs: customers [list]",
        "  timeouts: step 15 s, page load 60 s",
    ]
    steps = lines[lines.index("") + 1:]
    assert steps[:16] == [
        "steps[0] call  (line 20)",
        "  flow: sign_in.yaml → flow sign_in",
        "    steps[0] open  (line 6)",
        "      url: {{ portal.url }}/login",
        "    steps[1] fill  (line 7)",
        "      target: login.username → data-cy:login-username | id:username | css:input[autocomplete=username]",
        "      value: {{ secrets.sera_username }}",
        "    steps[2] fill  (line 8)",
        "      target: login.password → data-cy:login-password | id:password | css:input[type=password]",
        "      value: {{ secrets.sera_password }}",
        "    steps[3] click  (line 9)",
        "      target: login.submit → data-cy:login-submit | id:login-button | css:form button[type=submit]",
        "    steps[4] wait_for  (line 10)",
        "      target: mfa.code → data-cy:mfa-code | id:code | css:input[autocomplete=one-time-code]",
        "      fail_on:",
        "        login.error → data-cy:login-error | css:.alert-error[role=alert]: login rejected",
    ]
    # An optional selector argument (SelectorRef | None) is resolved too; the TOTP secret stays a template.
    assert ("      submit: mfa.submit → data-cy:mfa-submit | id:verify-button | css:form button[type=submit]"
            in steps)
    assert "      secret: {{ secrets.sera_totp }}" in steps


def test_nested_steps_are_indented_under_their_block(in_repo):
    text = explain(load_flow("flows/sera/list_customers.yaml"))
    assert ("  collect: rows\n"
            "  steps:\n"
            "    steps[2].paginate.steps[0] extract_table  (line 28)\n"
            "      id: rows\n"
            "      table: customers.table → data-cy:customers-table | id:customers-table | css:main table\n"
            "      fields:\n"
            "        id: {row_attr: data-id}\n") in text
    assert text.endswith("steps[3] set_output  (line 43)\n  customers: {{ steps.pages.output }}\n")


def test_raw_selectors_and_options(in_repo):
    text = explain(load_flow("tests/browser/flows/optional_when.yaml"))
    assert ("steps[1] click  (line 8)\n"
            "  target: css:#no-such-banner button\n"
            "  timeout: 1.0\n"
            "  optional: true\n"
            "steps[2] wait_for  (line 9)\n"
            "  target: login.username → data-cy:login-username | id:username | css:input[autocomplete=username]\n"
            "  when: {{ vars.strict }}\n") in text


def test_no_template_is_rendered(in_repo, monkeypatch):
    """explain never touches the renderer: nothing it prints can hold a secret's value."""
    import robots.flow.templating as templating

    def boom(*a, **k):
        raise AssertionError("explain rendered a template")

    monkeypatch.setattr(templating, "render", boom)
    assert "{{ secrets.sera_password }}" in explain(load_flow("flows/sera/list_customers.yaml"))
