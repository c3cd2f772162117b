"""The JUnit report validates against the JUnit XML schema CI systems read (tests/reports/junit.xsd,
the structure Jenkins validates against, with typed attributes)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from report_builders import T0, build, record, step

from robots.records import Evidence, RunRecord
from robots.reports.junit import build_junit

SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("junit.xsd"))))


def records() -> dict[str, RunRecord]:
    evidence = (build(Evidence, step_index=1, screenshot="evidence/step-001.png", url="http://x/?a=1&b=2"),)
    return {
        "passed": record("r-passed", steps=(step(0), step(1))),
        "failed": record("r-failed", status="failed", error_class="BusinessFailure",
                         error_message='said "no" <b>', failure_kind="business", evidence=evidence,
                         steps=(step(0), step(1, "failed", error_class="BusinessFailure",
                                                  error_message='said "no" <b>'))),
        "errored": record("r-errored", status="errored", error_class="StepTimeout", error_message="30 s\x1b[0m",
                          steps=(step(0, "retried", error_class="StepTimeout", error_message="slow"),
                                 step(1, "errored", error_class="StepTimeout", error_message="30 s\x1b[0m"))),
        "skipped": record("r-skipped", status="skipped", steps=(step(0, "skipped", error_message="dry run"),
                                                                   step(1, "skipped"))),
        "interrupted": record("r-interrupted", status="interrupted", ended_at=None, steps=(step(0),)),
        "canceled": record("r-canceled", status="canceled", ended_at=T0 + timedelta(hours=3, seconds=0.25)),
        "broke before the first step": record("r-early", status="errored", error_class="PortalUnreachable",
                                              error_message="refused"),
    }


def _doc(rec: RunRecord) -> etree._Element:
    return etree.fromstring(ET.tostring(build_junit(rec), encoding="utf-8", xml_declaration=True))


def _errors() -> list[str]:
    return [e.message for e in SCHEMA.error_log]


@pytest.mark.parametrize("kind", list(records()))
def test_junit_report_is_valid(kind: str) -> None:
    doc = _doc(records()[kind])
    assert SCHEMA.validate(doc), _errors()


@pytest.mark.parametrize("xml, problem", [
    ('<testsuite tests="1" failures="0" errors="0"><testcase name="a"/></testsuite>',
     "Element 'testsuite': The attribute 'name' is required but missing."),
    ('<testsuite name="s" tests="one" failures="0" errors="0"/>',
     "Element 'testsuite', attribute 'tests': 'one' is not a valid value of the atomic type 'count'."),
    ('<testsuite name="s" tests="1" failures="0" errors="0" time="-1"><testcase name="a"/></testsuite>',
     "Element 'testsuite', attribute 'time': [facet 'pattern'] The value '-1' is not accepted by the pattern "
     "'([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\\.[0-9]+)?'."),
    ('<testsuite name="s" tests="1" failures="0" errors="0" timestamp="2025-03-04T10:00:00+02:00"/>',
     "Element 'testsuite', attribute 'timestamp': [facet 'pattern'] The value '2025-03-04T10:00:00+02:00' is not "
     "accepted by the pattern '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?'."),
    ('<testsuite name="s" tests="1" failures="0" errors="0"><testcase/></testsuite>',
     "Element 'testcase': The attribute 'name' is required but missing."),
    ('<testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a"><bogus/></testcase></testsuite>',
     "Element 'bogus': This element is not expected. Expected is one of ( skipped, error, failure, system-out, "
     "system-err )."),
])
def test_the_schema_rejects_what_readers_reject(xml: str, problem: str) -> None:
    assert not SCHEMA.validate(etree.fromstring(xml))
    assert [e.message for e in SCHEMA.error_log] == [problem]


def test_the_schema_accepts_a_typical_surefire_report() -> None:
    xml = ('<testsuites name="all" tests="2" failures="1" errors="0" time="1,234.5">'
           '<testsuite name="s" tests="2" failures="1" errors="0" skipped="0" time="1.5" '
           'timestamp="2025-03-04T10:00:00" hostname="ci">'
           '<properties><property name="k" value=""/></properties>'
           '<testcase name="a" classname="c" time="0.5"><system-out>x</system-out></testcase>'
           '<testcase name="b" time="1"><failure message="m" type="T">trace</failure></testcase>'
           '<system-out/></testsuite></testsuites>')
    assert SCHEMA.validate(etree.fromstring(xml)), _errors()
