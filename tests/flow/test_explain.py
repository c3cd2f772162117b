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
    flow = load_flow("flows/sera/list_customers.yaml")
    lines = explain(flow).splitlines()
    assert lines[0] == "flow list_customers (flows/sera/list_customers.yaml)"
    assert lines[3] == f"  selectors: {Path('selectors/sera')} ({len(flow.catalog.selectors)} entries)"
    # the called sign_in flow's secrets, by name only
    assert "  secrets: sera_username, sera_password, sera_totp, sera_mfa_to" in lines
    steps = lines[lines.index("") + 1:]
    sign_in = steps[:steps.index("      sent_to: mfa.destination → data-cy:mfa-destination | "
                                 "css:[data-cy$=-destination]") + 1]
    assert sign_in[1:] == [
        "  flow: sign_in.yaml → flow sign_in",
        "    steps[0] open  (line 16)",
        "      url: {{ portal.url }}/login",
        "    steps[1] login  (line 17)",
        "      username: {{ secrets.sera_username }}",
        "      password: {{ secrets.sera_password }}",
        "      then:",
        "        - mfa.code → data-cy:mfa-code | id:code | css:input[autocomplete=one-time-code]",
        "        - nav.main → data-cy:main-nav | css:nav[aria-label=Main]",
        "      stop_on:",
        "        password.expired → data-cy:password-expired | css:form[action$='/password-expired']: the portal "
        "demands a password change before this account can sign in",
        "        device.check → data-cy:device-check | xpath://h1[contains(normalize-space(.), 'Confirm that this is "
        "you')]: the portal asks to confirm this new device (a person must open the link it e-mailed)",
        "        maintenance.title → data-cy:maintenance-title | css:.error-page h1: the portal is down for "
        "maintenance",
        "    steps[2] mfa  (line 25)",
        "      done: nav.main → data-cy:main-nav | css:nav[aria-label=Main]",
        # an optional selector argument (SelectorRef | None) is resolved too; the secrets stay templates
        "      resend: mfa.resend → data-cy:mfa-resend | css:form[action$='/mfa/resend'] button",
        "      totp: {{ secrets.sera_totp }}",
        "      source: {to: '{{ secrets.sera_mfa_to }}', kind: outbox}",
        "      sent_to: mfa.destination → data-cy:mfa-destination | css:[data-cy$=-destination]",
    ]


def test_nested_steps_are_indented_under_their_block(in_repo):
    text = explain(load_flow("flows/sera/list_customers.yaml"))
    assert ("  collect: rows\n"
            "  fetch: {{ vars.fetch }}\n"
            "  steps:\n"
            "    steps[2].paginate.steps[0] extract_table  (line ") in text
    assert ("      id: rows\n"
            "      table: customers.table → data-cy:customers-table | id:customers-table | css:main table\n"
            "      fields:\n"
            "        id: {row_attr: data-id}\n") in text
    assert text.endswith("  customers: {{ steps.pages.output }}\n")


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
