"""Template filters and the roots templates can read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from robots.flow.templating import render


@pytest.mark.parametrize(("template", "value"), [
    ("{{ 123450 | money }}", "$1,234.50"),
    ("{{ -4500 | money }}", "-$45.00"),
    ("{{ 5 | money('€') }}", "€0.05"),
    ("{{ \"Zoë O'Brien & Sons\" | slug }}", "zoe-o-brien-sons"),
    ("{{ '2025-03-14T19:05:00Z' | date('%m/%d/%Y') }}", "03/14/2025"),
    ("{{ '2025-03-14' | date }}", "2025-03-14"),
    ("{{ now | days_ago(7) | date }}", "2026-01-08"),
    ("{{ steps.rows.output | length }}", 3),
    ("{{ env.TENANT }}-{{ vars.q | urlencode }}", "acme-a%20b"),
])
def test_filters_and_roots(template, value):
    context = {"now": datetime(2026, 1, 15, 12, tzinfo=UTC), "steps": {"rows": {"output": [1, 2, 3]}},
               "env": {"TENANT": "acme"}, "vars": {"q": "a b"}}
    assert render(template, context) == value


def test_sandbox_refuses_unsafe_attributes():
    with pytest.raises(Exception) as caught:
        render("{{ vars.__class__.__mro__ }}", {"vars": {}})
    assert "unsafe" in str(caught.value) or "access to attribute" in str(caught.value)


def test_a_key_named_like_a_dict_method_reads_the_key():
    from robots.flow.templating import render

    context = {"steps": {"items": {"output": [1, 2]}, "keys": {"output": "k"}}, "vars": {"get": 3}}
    assert render("{{ steps.items.output }}", context) == [1, 2]
    assert render("{{ steps.keys.output }}-{{ vars.get }}", context) == "k-3"
