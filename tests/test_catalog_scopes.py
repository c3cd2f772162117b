"""Scoped catalog entries (`within`, `frame`): how they load and how mistakes are reported."""

from __future__ import annotations

from robots.selectors_catalog import SelectorCatalog

CATALOG = """\
table: "css:table"
first_name: {candidates: ["css:td.name", "xpath://td[2]"], within: table}
viewer: "css:iframe#viewer"
nested: {candidates: "css:iframe", frame: viewer}
download: {candidates: "text:Download", frame: nested, within: customers.box}
bad: {candidates: "css:x", within: tabel}
loop1: {candidates: "css:x", within: loop2}
loop2: {candidates: "css:y", within: loop1}
odd: {candidates: "css:x", scope: table}
"""


def test_scopes_link_entries_and_report_mistakes(tmp_path):
    (tmp_path / "page.yaml").write_text(CATALOG)
    (tmp_path / "customers.yaml").write_text('box: "css:.box"\n')
    catalog, issues = SelectorCatalog.load(tmp_path)
    first = catalog.resolve("page.first_name")
    assert first.within is not None and first.within.name == "page.table" and first.frame is None
    assert first.spec() == [[["css selector", "td.name"], ["xpath", "//td[2]"]], [["css selector", "table"]]]
    download = catalog.resolve("page.download")
    assert (download.frame.name, download.frame.frame.name, download.within.name) == (
        "page.nested", "page.viewer", "customers.box")
    page = tmp_path / "page.yaml"
    assert [str(i) for i in issues] == [
        f"{page}:6:36: bad.within: unknown selector 'page.tabel' (did you mean 'page.table'?)",
        f"{page}:8:38: loop2.within: 'page.loop1' is inside itself (page.loop1 → page.loop2 → page.loop1)",
        f"{page}:9:6: odd: a selector with a scope is a mapping of 'candidates' and optional 'within' and "
        "'frame'; unknown key 'scope'",
    ]
