"""The multi-run dashboard: pass rates, durations chart, grouped errors and drift per day, exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from report_builders import one, page, record, step, texts

from robots.records import RunRecord
from robots.reports.dashboard import error_signature, percentile, render_dashboard

SINCE = datetime(2025, 3, 1, tzinfo=UTC)
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def run(run_id: str, flow: str, day: int, hour: int, status: str, seconds: float | None, **fields: Any) -> RunRecord:
    started = datetime(2025, 3, day, hour, tzinfo=UTC) if day > 0 else datetime(2025, 2, 28, hour, tzinfo=UTC)
    ended = None if seconds is None else started + timedelta(seconds=seconds)
    return record(run_id, flow_name=flow, status=status, started_at=started, ended_at=ended, **fields)


def drifted_steps(started: datetime, count: int) -> tuple:
    return tuple(step(i, started_at=started + timedelta(minutes=i), drift=f"page.el{i}: matched fallback css:#b{i}")
                 for i in range(count)) + (step(count, started_at=started),)


RECORDS = [
    run("a0", "list_customers", 0, 9, "failed", 99, error_class="Old", error_message="before the period"),
    run("a1", "list_customers", 1, 9, "passed", 10),
    run("a2", "list_customers", 2, 9, "passed", 12,
        steps=drifted_steps(datetime(2025, 3, 2, 9, tzinfo=UTC), 1)),
    run("a3", "list_customers", 2, 15, "failed", 4, error_class="BusinessFailure",
        error_message="login rejected: Invalid username or password."),
    run("a4", "list_customers", 3, 9, "passed", 30),
    run("a5", "list_customers", 4, 9, "running", None),
    run("b1", "create_job", 1, 10, "errored", 35, error_class="StepTimeout",
        error_message="timed out after 30 s waiting for row 12"),
    run("b2", "create_job", 3, 10, "errored", 50, error_class="StepTimeout",
        error_message="timed out after 45 s waiting for row 7"),
    run("b3", "create_job", 4, 10, "passed", 20, steps=drifted_steps(datetime(2025, 3, 4, 10, tzinfo=UTC), 2)),
    run("b4", "create_job", 2, 10, "skipped", 0),
    run("c1", "create_job", 2, 11, "errored", 1, error_class="PortalError",
        error_message="timed out after 30 s waiting for row 12"),
]


@pytest.fixture(scope="module")
def doc() -> Any:
    return page(render_dashboard(RECORDS, since=SINCE, now=NOW))


def test_per_flow_figures(doc: Any) -> None:
    assert texts(doc, "//table[@id='flows']/thead//th") == [
        "Flow", "Runs", "Pass rate", "Passed / decided", "Median", "p95", "Statuses", "Last run"]
    rows = [texts(row, "td") for row in doc.xpath("//table[@id='flows']/tbody/tr")]
    assert rows == [
        # durations 35, 50, 20, 0, 1: median 20, p95 (nearest rank) 50; skipped does not count in the rate
        ["create_job", "5", "25%", "1 / 4", "20.0 s", "50.0 s",
         "errored 3 passed 1 skipped 1", "b3 passed"],
        # durations 10, 12, 4, 30 (a5 is still running): median 11, p95 30
        ["list_customers", "5", "75%", "3 / 4", "11.0 s", "30.0 s",
         "failed 1 passed 3 running 1", "a5 running"],
    ]
    assert one(doc, "//p[@id='totals']") == "10 runs of 2 flows; 4 of 8 decided runs passed."
    assert one(doc, "//div[@id='period']") == "2025-03-01 00:00:00+00:00 to 2025-03-04 12:00:00+00:00 (UTC)"


def test_one_point_per_finished_run_in_time_order(doc: Any) -> None:
    charts = {c.get("data-flow"): c for c in doc.xpath("//section[contains(@class, 'chart')]")}
    assert sorted(charts) == ["create_job", "list_customers"]
    for flow, expected in (("list_customers", ["a1", "a2", "a3", "a4"]),
                           ("create_job", ["b1", "b4", "c1", "b2", "b3"])):
        circles = charts[flow].xpath(".//svg[@class='durations']/circle")
        assert [c.get("data-run") for c in circles] == expected
        xs = [float(c.get("cx")) for c in circles]
        assert xs == sorted(xs)
    a = charts["list_customers"].xpath(".//circle")
    ys = {c.get("data-run"): float(c.get("cy")) for c in a}
    assert min(ys, key=ys.__getitem__) == "a4"  # the longest run is drawn highest
    assert [c.get("fill") for c in a] == ["#1a7f37", "#1a7f37", "#cf222e", "#1a7f37"]
    assert texts(a[2], "title") == ["a3 · failed · 4.0 s · 2025-03-02 15:00:00+00:00"]
    # x runs from the start of the period (left edge) to now (right edge).
    first = float(a[0].get("cx"))
    assert first == pytest.approx(48 + (640 - 60) * (9 * 3600) / (3.5 * 86400), abs=0.1)


def test_errors_grouped_by_class_and_message_without_numbers(doc: Any) -> None:
    rows = [texts(row, "td") for row in doc.xpath("//table[@id='errors']/tbody/tr")]
    assert rows == [
        ["2", "StepTimeout", "timed out after # s waiting for row #", "create_job",
         "b2 2025-03-03 10:00:00+00:00"],
        # equal counts: the one seen last first; same message, other class: its own group
        ["1", "BusinessFailure", "login rejected: Invalid username or password.", "list_customers",
         "a3 2025-03-02 15:00:00+00:00"],
        ["1", "PortalError", "timed out after # s waiting for row #", "create_job",
         "c1 2025-03-02 11:00:00+00:00"],
    ]
    assert doc.xpath("//table[@id='errors']/tbody/tr[1]/td[3]/@title") == ["timed out after 45 s waiting for row 7"]


def test_drift_per_day(doc: Any) -> None:
    rows = [texts(row, "td") for row in doc.xpath("//table[@id='drift']/tbody/tr")]
    assert rows == [["2025-03-01", "0", ""], ["2025-03-02", "1", ""], ["2025-03-03", "0", ""],
                    ["2025-03-04", "2", ""]]
    assert one(doc, "//*[@id='drift-total']") == (
        "3 steps matched a fallback selector; update the first-choice selectors.")
    widths = doc.xpath("//table[@id='drift']//div[@class='bar']/span/@style")
    assert [w.split(";")[0] for w in widths] == ["width:0.0%", "width:50.0%", "width:0.0%", "width:100.0%"]


def test_runs_outside_the_period_are_left_out(doc: Any) -> None:
    text = doc.text_content()
    assert "a0" not in doc.xpath("//circle/@data-run")
    assert "before the period" not in text and "Old" not in texts(doc, "//table[@id='errors']//td")


def test_no_runs_is_a_friendly_page() -> None:
    for records in ([], [RECORDS[0]]):  # nothing at all, or nothing since `since`
        doc = page(render_dashboard(records, since=SINCE, now=NOW))
        assert texts(doc, "//section[@id='empty']/p")[0] == "No runs since 2025-03-01 00:00:00+00:00."
        assert doc.xpath("//svg | //table") == []


def test_naive_times_are_utc_and_no_drift_says_so() -> None:
    doc = page(render_dashboard([RECORDS[1]], since=datetime(2025, 3, 1), now=datetime(2025, 3, 1, 12)))
    assert [texts(r, "td")[:3] for r in doc.xpath("//table[@id='flows']/tbody/tr")] == [["list_customers", "1", "100%"]]
    assert one(doc, "//*[@id='drift-total']") == "No selector drift."
    assert one(doc, "//p[@id='no-errors']") == "No errors."
    assert len(doc.xpath("//circle")) == 1
    assert doc.xpath("//polyline") == []


def test_dashboard_escapes_and_is_self_contained() -> None:
    evil = '<script>alert(1)</script>'
    records = [run("x1", f"flow{evil}", 1, 9, "failed", 3, error_class=evil, error_message=f"{evil} 42")]
    text = render_dashboard(records, since=SINCE, now=NOW)
    doc = page(text)
    assert doc.xpath("//script | //link") == []
    assert "<script>alert" not in text
    assert texts(doc, "//table[@id='errors']/tbody/tr/td")[1:3] == [evil, "<script>alert(#)</script> #"]
    assert all(not h.startswith(("http:", "https:", "//")) for h in doc.xpath("//@href | //@src"))


def test_helpers() -> None:
    assert error_signature("row 12 of 1,234 at 10:15:02 (3.5 s)") == "row # of # at # (# s)"
    assert error_signature("  spaced\n  out 7 ") == "spaced out #"
    assert percentile([4, 10, 12, 30], 0.95) == 30
    assert percentile(list(range(1, 101)), 0.95) == 95
    assert percentile([7], 0.5) == 7
