"""The HTML report of one run, read the way a person reads it: what each part of the page says."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from report_builders import (
    CONSOLE,
    MASKED_PAGE,
    T0,
    build,
    failed_run,
    one,
    page,
    png,
    record,
    step,
    texts,
)

from robots.records import Evidence, RunRecord, StepRecord
from robots.records.model import ErrorLocation
from robots.reports import REPORTERS, write_report
from robots.reports.html import HTML_PREVIEW_BYTES, render_html, write_html

SCRIPT = '<script>alert("owned")</script>'


def test_header_shows_the_run(tmp_path: Path) -> None:
    doc = page(render_html(failed_run(tmp_path), tmp_path))

    badge = doc.get_element_by_id("status")
    assert badge.text_content() == "failed"
    assert "s-failed" in badge.get("class").split()
    assert one(doc, "//title") == "list_customers · failed · run run-failed"
    summary = dict(zip(texts(doc, "//dl[@id='summary']/dt"), texts(doc, "//dl[@id='summary']/dd"), strict=True))
    assert summary == {
        "Run": "run-failed",
        "Flow file": "flows/sera/list_customers.yaml",
        "Trigger": "schedule",
        "Portal": "http://127.0.0.1:8000",
        "Started": "2025-03-04 10:00:00+00:00",
        "Ended": "2025-03-04 10:00:12+00:00",
        "Duration": "12.5 s",
        "Pages": "0",
        "Rows": "0",
        "Browser": "chromium 156.0.8078.108 · driver 156.0.8078.108",
    }


def test_error_says_class_message_and_kind(tmp_path: Path) -> None:
    doc = page(render_html(failed_run(tmp_path), tmp_path))
    assert texts(doc, "//section[@id='error']/div") == [
        "BusinessFailure · business (the portal said no) failure",
        "login rejected: Invalid username or password.",
    ]



def test_error_says_where_it_came_from(tmp_path: Path) -> None:
    record = failed_run(tmp_path).model_copy(update={"error_location": ErrorLocation(
        file="flows/sera/sign_in.yaml", line=17, step="steps[1].login")})
    doc = page(render_html(record, tmp_path))
    assert texts(doc, "//section[@id='error']/div")[2] == "at flows/sera/sign_in.yaml:17: steps[1].login"


def test_step_table(tmp_path: Path) -> None:
    doc = page(render_html(failed_run(tmp_path), tmp_path))
    assert texts(doc, "//table[@id='steps']/thead//th") == [
        "#", "Step", "Status", "Attempts", "Duration (ms)", "Selector / drift", "Note"]
    rows = [texts(row, "td") for row in doc.xpath("//table[@id='steps']/tbody/tr")]
    assert rows == [
        ["0", "steps[0] open", "passed", "1", "2,301", "", "http://127.0.0.1:8000/login"],
        ["1", "steps[1] fill", "passed", "1", "200", "css:#username", ""],
        ["2", "steps[2] wait_for", "failed", "2", "397", "data-cy:customers-table",
         "BusinessFailure: login rejected: Invalid username or password. evidence"],
    ]
    # Bars are relative to the longest step.
    bars = [span.get("style") for span in doc.xpath("//table[@id='steps']//div[@class='bar']/span")]
    assert bars == ["width:100.0%", "width:8.7%", "width:17.2%"]
    assert doc.xpath("//table[@id='steps']/tbody/tr[3]/@class") == ["problem"]
    assert doc.xpath("//table[@id='steps']/tbody/tr[3]//a/@href") == ["#evidence-2"]


def test_screenshot_is_inline_and_decodes_to_the_png(tmp_path: Path) -> None:
    shot = png(7, 5, (10, 120, 240))
    doc = page(render_html(failed_run(tmp_path, shot=shot), tmp_path))
    [src] = doc.xpath("//section[@id='evidence-2']//img[@class='screenshot']/@src")
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    assert base64.b64decode(src[len(prefix):], validate=True) == shot
    assert one(doc, "//section[@id='evidence-2']//dd[@class='page-url']") == "http://127.0.0.1:8000/login?next=%2Fcustomers"
    assert one(doc, "//section[@id='evidence-2']/h3") == "Step 2 · steps[2] wait_for"


def test_evidence_files_are_linked_and_shown(tmp_path: Path) -> None:
    doc = page(render_html(failed_run(tmp_path), tmp_path))
    section = "//section[@id='evidence-2']"
    assert [(a.text_content(), a.get("href")) for a in doc.xpath(f"{section}//ul[@class='files']//a")] == [
        ("evidence/step-002.png", "evidence/step-002.png"),
        ("evidence/step-002.html", "evidence/step-002.html"),
        ("evidence/step-002.console.json", "evidence/step-002.console.json"),
        ("evidence/step-002.network.json", "evidence/step-002.network.json"),
    ]
    # The masked page is shown as text, collapsed, never as markup of the report.
    [details] = doc.xpath(f"{section}//details[@class='page-html']")
    assert details.get("open") is None
    assert " ".join(details.find("summary").text_content().split()) == "Page HTML (masked), 1 KB"
    assert details.find("pre").text_content() == MASKED_PAGE
    assert doc.xpath("//script") == []

    console = doc.xpath(f"{section}//table[@class='console-table']")[0]
    assert texts(console, "thead//th") == ["timestamp", "level", "message"]
    assert [texts(row, "td") for row in console.xpath("tbody/tr")] == [
        ["2025-03-04 10:00:00.123+00:00", "SEVERE", CONSOLE[0]["message"]],
        ["2025-03-04 10:00:01.000+00:00", "WARNING", "<script>bad()</script>"],
    ]
    assert one(doc, f"{section}//details[@class='console']/summary") == "Console log (2)"
    network = doc.xpath(f"{section}//table[@class='network-table']")[0]
    assert texts(network, "thead//th") == ["at", "method", "status", "type", "url", "error", "id"]
    assert [texts(row, "td") for row in network.xpath("tbody/tr")] == [
        ["2025-03-04 09:59:59.500+00:00", "GET", "200", "Document", "http://portal/login", "", "1"],
        ["2025-03-04 10:00:00.250+00:00", "POST", "", "Document", "http://portal/login", "net::ERR_ABORTED", "2"],
    ]


def test_links_are_relative_to_where_the_report_is_written(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "run-failed"
    rec = failed_run(run_dir)
    write_html(rec, run_dir / "report.html")
    write_html(rec, tmp_path / "ci" / "out" / "report.html")
    inside = page((run_dir / "report.html").read_text(encoding="utf-8"))
    outside = page((tmp_path / "ci" / "out" / "report.html").read_text(encoding="utf-8"))
    assert inside.xpath("//ul[@class='files']//a/@href")[0] == "evidence/step-002.png"
    assert outside.xpath("//ul[@class='files']//a/@href")[0] == "../../runs/run-failed/evidence/step-002.png"
    # Both inline the screenshot.
    assert inside.xpath("//img/@src") == outside.xpath("//img/@src") != []


def test_written_through_the_reporter_registry(tmp_path: Path) -> None:
    assert REPORTERS["html"] is write_html
    run_dir = tmp_path / "run"
    write_report("html", failed_run(run_dir), run_dir / "report.html")
    doc = page((run_dir / "report.html").read_text(encoding="utf-8"))
    assert doc.get_element_by_id("status").text_content() == "failed"
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_everything_from_the_record_is_escaped(tmp_path: Path) -> None:
    rec = failed_run(
        tmp_path,
        flow_name=f"flow {SCRIPT}",
        error_class="Bad<i>Class</i>",
        error_message=f"portal said {SCRIPT} & more",
        inputs={SCRIPT: SCRIPT},
        outputs={"rows": [{SCRIPT: SCRIPT, "n": 1}], "note": SCRIPT, "obj": {"k": SCRIPT}},
        browser={"kind": SCRIPT},
        portal_url=f"http://x/{SCRIPT}",
    )
    text = render_html(rec, tmp_path)
    doc = page(text)
    assert doc.xpath("//script | //i | //*[@onerror]") == []
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in text
    assert one(doc, "//section[@id='error']/div[@class='message']") == f"portal said {SCRIPT} & more"
    assert doc.get_element_by_id("flow-name").text_content() == f"flow {SCRIPT}"
    assert texts(doc, "//table[@id='inputs']//td") == [SCRIPT]
    assert one(doc, "//section[@id='output-note']/p") == SCRIPT


def test_drift_box_only_when_a_step_drifted(tmp_path: Path) -> None:
    plain = page(render_html(failed_run(tmp_path / "a"), tmp_path / "a"))
    assert plain.xpath("//*[@id='drift']") == []
    drifted = page(render_html(failed_run(tmp_path / "b", drift=True), tmp_path / "b"))
    assert texts(drifted, "//section[@id='drift']//li") == [
        "step 1 steps[1] fill: login.username: matched fallback css:#username after data-cy:login-user failed"
    ]
    assert one(drifted, "//section[@id='drift']/strong") == "Selector drift"
    cell = "//table[@id='steps']/tbody/tr[2]/td[6]"
    assert texts(drifted, f"{cell}/code") == ["css:#username"]
    assert texts(drifted, f"{cell}/div[@class='drift']") == [
        "login.username: matched fallback css:#username after data-cy:login-user failed"
    ]
    assert plain.xpath("//div[@class='drift']") == []


def big_passed_run(rows: int = 2500) -> RunRecord:
    customers = [{"id": i, "name": f"Customer {i}", "city": "Köln", "balance": i * 1.5, "tags": ["a", "b"]}
                 for i in range(rows)]
    customers[3] = {**customers[3], "vip": True}  # a key only some rows have
    pages = rows // 50
    steps = [step(i, name=f"steps[3] paginate page {i + 1}", duration_ms=180.0 + i) for i in range(pages)]
    return record("run-big", outputs={"customers": customers, "total": rows}, steps=tuple(steps), pages=pages,
                  rows=rows, ended_at=T0 + timedelta(minutes=2, seconds=5))


def test_passed_run_with_2500_rows_renders_and_previews_20(tmp_path: Path) -> None:
    rec = big_passed_run()
    text = render_html(rec, None)  # (no timing asserted here: the suite runs on shared, noisy machines)

    doc = page(text)
    assert doc.get_element_by_id("status").text_content() == "passed"
    assert doc.xpath("//*[@id='error'] | //*[@id='drift']") == []
    assert one(doc, "//section[@id='output-customers']/h3") == "customers 2500 items, first 20 shown"
    table = doc.xpath("//section[@id='output-customers']//table")[0]
    assert texts(table, "thead//th") == ["id", "name", "city", "balance", "tags", "vip"]
    body = [texts(row, "td") for row in table.xpath("tbody/tr")]
    assert len(body) == 20
    assert body[0] == ["0", "Customer 0", "Köln", "0.0", '["a", "b"]', ""]
    assert body[3][-1] == "true"
    assert one(doc, "//section[@id='output-total']/p") == "2500"
    assert len(doc.xpath("//table[@id='steps']/tbody/tr")) == 50
    assert texts(doc, "//dl[@id='summary']/dd")[6:9] == ["2 min 05 s", "50", "2500"]


def test_record_without_steps(tmp_path: Path) -> None:
    rec = record("run-early", status="errored", error_class="PortalUnreachable",
                 error_message="http://127.0.0.1:1 refused the connection", failure_kind="technical")
    doc = page(render_html(rec, tmp_path))
    assert doc.get_element_by_id("status").text_content() == "errored"
    assert one(doc, "//p[@id='no-steps']") == "No steps ran."
    assert texts(doc, "//section[@id='error']/div") == [
        "PortalUnreachable · technical failure", "http://127.0.0.1:1 refused the connection"]
    assert doc.xpath("//section[contains(@class, 'evidence')]") == []


@pytest.mark.parametrize("status", ["running", "passed", "failed", "errored", "interrupted", "skipped", "canceled"])
def test_every_status_has_its_badge(status: str) -> None:
    doc = page(render_html(record(status=status, ended_at=None if status == "running" else T0), None))
    badge = doc.get_element_by_id("status")
    assert (badge.text_content(), badge.get("class")) == (status, f"badge s-{status}")


def test_record_of_schema_1_without_the_new_fields(tmp_path: Path) -> None:
    """Records written before browser, attempts, selector, drift, console and network existed."""
    def strip(model: StepRecord | Evidence, *names: str) -> StepRecord | Evidence:
        copy = model.model_copy()
        for name in names:
            copy.__dict__.pop(name, None)
        return copy

    rec = failed_run(tmp_path, drift=True)
    old = RunRecord.model_construct(**{
        **{k: v for k, v in rec.__dict__.items() if k != "browser"},
        "steps": tuple(strip(s, "attempts", "selector", "drift") for s in rec.steps),
        "evidence": tuple(strip(e, "console", "network") for e in rec.evidence),
    })
    old.__dict__.pop("browser", None)
    doc = page(render_html(old, tmp_path))
    assert one(doc, "//dl[@id='summary']/dd[10]") == "—"
    assert [texts(row, "td")[3:6] for row in doc.xpath("//table[@id='steps']/tbody/tr")] == [["—", "2,301", ""]] + [
        ["—", "200", ""], ["—", "397", ""]]
    assert doc.xpath("//*[@id='drift'] | //details[@class='console'] | //details[@class='network']") == []
    assert doc.xpath("//img[@class='screenshot']/@src")[0].startswith("data:image/png;base64,")


def test_big_page_html_shows_its_first_200_kb(tmp_path: Path) -> None:
    rec = failed_run(tmp_path)
    # 'é' is two bytes: the 200 KB cut falls inside one, which must not show as garbage.
    body = "<p>" + "é" * 150_000 + "</p>"
    (tmp_path / "evidence" / "step-002.html").write_text(body, encoding="utf-8")
    doc = page(render_html(rec, tmp_path))
    [details] = doc.xpath("//details[@class='page-html']")
    assert " ".join(details.find("summary").text_content().split()) == \
        "Page HTML (masked), first 200 KB of 293 KB"
    shown = details.find("pre").text_content()
    assert body.startswith(shown)
    assert len(shown.encode("utf-8")) == HTML_PREVIEW_BYTES - 1  # the half character was dropped


def test_missing_and_outside_evidence_files_are_not_read(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (tmp_path / "secret.txt").write_text("top secret", encoding="utf-8")
    rec = failed_run(run_dir)
    rec = rec.model_copy(update={"evidence": (build(Evidence, step_index=2, screenshot="evidence/gone.png",
                                                    html="../secret.txt", url=None),)})
    text = render_html(rec, run_dir)
    assert "top secret" not in text
    doc = page(text)
    assert doc.xpath("//img") == []
    assert texts(doc, "//section[@id='evidence-2']/p") == ["the screenshot file is missing"]
    assert texts(doc, "//ul[@class='files']/li") == [
        "screenshot: evidence/gone.png (not found)", "html: ../secret.txt (not found)"]


def test_without_a_run_folder_evidence_is_listed_not_read() -> None:
    ev = build(Evidence, step_index=0, screenshot="evidence/step-000.png", url="http://portal/x")
    doc = page(render_html(record(status="errored", evidence=(ev,), steps=(step(0, "errored"),)), None))
    assert texts(doc, "//ul[@class='files']/li") == [
        "screenshot: evidence/step-000.png (not found: run folder unknown)"]
    assert doc.xpath("//a[contains(@href, 'evidence/')]") == []


def test_page_is_self_contained(tmp_path: Path) -> None:
    doc = page(render_html(failed_run(tmp_path, drift=True), tmp_path))
    assert doc.xpath("//script | //link | //iframe | //object | //embed") == []
    assert all(src.startswith("data:") for src in doc.xpath("//@src"))
    hrefs = doc.xpath("//@href")
    assert hrefs and all(not h.startswith(("http:", "https:", "//")) for h in hrefs)
    [csp] = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert "default-src 'none'" in csp
