"""JSON and JUnit reports of a run record, read back the way CI and users read them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from record_builders import T0, full_record, make_record, make_step

from robots.errors import ConfigError
from robots.records import Evidence, RunRecord
from robots.reports import REPORTERS, UnknownReportKind, write_json, write_junit, write_report

NASTY = "Expected <b>&amp;</b> \"quoted\" & 'single' <tag/>\nsecond line"


def mixed_record() -> RunRecord:
    return make_record(
        "run-42",
        flow_name="create_job",
        status="errored",
        ended_at=T0 + timedelta(seconds=7, milliseconds=250),
        steps=(
            make_step(0, name="goto", duration_ms=1500.0),
            make_step(
                1,
                name="fill customer",
                status="failed",
                duration_ms=250.0,
                error_class="ValidationFailed",
                error_message=NASTY,
            ),
            make_step(
                2,
                name="click save",
                status="retried",
                duration_ms=30000.0,
                error_class="TimeoutError",
                error_message="no response",
            ),
            make_step(
                3,
                name="click save",
                status="errored",
                duration_ms=30000.0,
                error_class="TimeoutError",
                error_message="still no response",
            ),
            make_step(4, name="scrape table", status="skipped", duration_ms=0.0),
        ),
        evidence=(
            Evidence(
                step_index=3,
                screenshot="step-3.png",
                html="step-3.html",
                url="https://acme.sera.tech/jobs/new?a=1&b=2",
            ),
        ),
        error_class="TimeoutError",
        error_message="still no response",
    )


def _junit(record: RunRecord, tmp_path: Path) -> ET.Element:
    path = tmp_path / "junit.xml"
    write_junit(record, path)
    return ET.parse(path).getroot()


def test_junit_counts_and_attributes(tmp_path: Path) -> None:
    root = _junit(mixed_record(), tmp_path)

    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    expected = {"tests": "5", "failures": "1", "errors": "1", "skipped": "1", "time": "7.250"}
    assert suite.attrib == {"name": "create_job", **expected, "timestamp": "2025-03-04T10:00:00"}
    assert root.attrib == {"name": "create_job", **{k: v for k, v in expected.items() if k != "skipped"}}
    assert [(p.get("name"), p.get("value")) for p in suite.findall("properties/property")] == [
        ("run_id", "run-42"),
        ("status", "errored"),
    ]
    assert [case.attrib for case in suite.findall("testcase")] == [
        {"classname": "robots.create_job", "name": "0 goto", "time": "1.500"},
        {"classname": "robots.create_job", "name": "1 fill customer", "time": "0.250"},
        {"classname": "robots.create_job", "name": "2 click save", "time": "30.000"},
        {"classname": "robots.create_job", "name": "3 click save", "time": "30.000"},
        {"classname": "robots.create_job", "name": "4 scrape table", "time": "0.000"},
    ]


def test_junit_failure_error_skipped_and_retried_elements(tmp_path: Path) -> None:
    cases = _junit(mixed_record(), tmp_path).findall("testsuite/testcase")

    assert [[child.tag for child in case] for case in cases] == [
        [],
        ["failure"],
        ["system-out"],
        ["error"],
        ["skipped"],
    ]
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.attrib == {"message": NASTY, "type": "ValidationFailed"}
    assert failure.text == f"ValidationFailed: {NASTY}"
    assert cases[2].findtext("system-out") == "retried after TimeoutError: no response"
    error = cases[3].find("error")
    assert error is not None
    assert error.attrib == {"message": "still no response", "type": "TimeoutError"}
    assert error.text == (
        "TimeoutError: still no response\n"
        "screenshot: step-3.png\n"
        "html: step-3.html\n"
        "url: https://acme.sera.tech/jobs/new?a=1&b=2"
    )
    assert cases[4].find("skipped").attrib == {}  # type: ignore[union-attr]


def test_junit_escapes_markup_and_survives_control_characters(tmp_path: Path) -> None:
    message = "bad \x1b[31mred\x1b[0m \x00 & <x> \"q\" 'a' \ud800 end"
    record = make_record(
        "r&<>\"'",
        flow_name="flow <&>",
        status="failed",
        steps=(make_step(0, name="fill \"a\" & 'b'", status="failed", error_class="E<1>", error_message=message),),
    )

    raw = tmp_path / "junit.xml"
    write_junit(record, raw)
    root = ET.parse(raw).getroot()

    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "bad \\x1b[31mred\\x1b[0m \\x00 & <x> \"q\" 'a' \\ud800 end"
    assert failure.get("type") == "E<1>"
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "0 fill \"a\" & 'b'"
    assert case.get("classname") == "robots.flow <&>"
    assert root.find("testsuite/properties/property").get("value") == "r&<>\"'"  # type: ignore[union-attr]
    assert raw.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<testsuites")


def test_junit_run_that_broke_before_any_step(tmp_path: Path) -> None:
    record = make_record("r", status="errored", error_class="LoginFailed", error_message="portal down")

    suite = _junit(record, tmp_path).find("testsuite")

    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "0", "1")
    [case] = suite.findall("testcase")
    assert case.attrib == {"classname": "robots.list_customers", "name": "run", "time": "0.000"}
    assert case.find("error").attrib == {"message": "portal down", "type": "LoginFailed"}  # type: ignore[union-attr]


def test_junit_business_failure_outside_steps_is_a_failure(tmp_path: Path) -> None:
    record = make_record("r", status="failed", steps=(make_step(0),), error_message="password change required")

    suite = _junit(record, tmp_path).find("testsuite")

    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    assert suite.findall("testcase")[1].find("failure").attrib == {  # type: ignore[union-attr]
        "message": "password change required",
        "type": "",
    }


def test_junit_of_a_running_record_uses_step_time(tmp_path: Path) -> None:
    record = make_record(
        "r",
        status="running",
        ended_at=None,
        steps=(make_step(0, duration_ms=1000), make_step(1, duration_ms=234.5)),
    )

    suite = _junit(record, tmp_path).find("testsuite")

    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("time")) == (
        "2",
        "0",
        "0",
        "1.234",
    )


def test_json_report_loads_back_into_an_equal_record(tmp_path: Path) -> None:
    record = full_record()
    path = tmp_path / "out" / "run.json"

    write_json(record, path)

    data = path.read_bytes()
    assert data.startswith(b'{\n  "schema_version": 4,\n  "run_id": "run-full",')
    assert "Zoë Ångström".encode() in data
    assert RunRecord.model_validate_json(data) == record
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_write_report_dispatches_by_kind(tmp_path: Path) -> None:
    record = mixed_record()

    write_report("json", record, tmp_path / "r.json")
    write_report("junit", record, tmp_path / "r.xml")

    assert RunRecord.model_validate_json((tmp_path / "r.json").read_text("utf-8")) == record
    assert ET.parse(tmp_path / "r.xml").getroot().tag == "testsuites"
    assert sorted(REPORTERS) == ["html", "json", "junit"]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("junt", "unknown report kind 'junt' (did you mean 'junit'?); known kinds: html, json, junit"),
        ("pdf", "unknown report kind 'pdf'; known kinds: html, json, junit"),
    ],
)
def test_unknown_report_kind(tmp_path: Path, kind: str, message: str) -> None:
    with pytest.raises(UnknownReportKind) as caught:
        write_report(kind, mixed_record(), tmp_path / "r")

    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ConfigError)
    assert caught.value.exit_code == 2
    assert not (tmp_path / "r").exists()
