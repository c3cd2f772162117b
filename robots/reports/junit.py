"""The JUnit XML report, for CI: one testsuite per run, one testcase per executed step.

Step status -> testcase: failed -> <failure>, errored -> <error>, skipped -> <skipped/>, passed and
retried -> plain (a retried attempt is followed by the attempt that counts; its error goes in
<system-out>). A run that failed, errored, was interrupted or canceled without any step saying so
(e.g. it broke before its first step) gets one extra testcase named "run" carrying the run's error,
so CI never shows green for it.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC

from robots.records.model import Evidence, RunRecord, StepRecord
from robots.reports._files import write_atomically

# Characters XML 1.0 cannot carry at all, not even escaped (control characters, lone surrogates).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """`text` with each character XML cannot carry written as a visible escape (ESC -> `\\x1b`)."""
    return _NOT_XML.sub(lambda m: repr(m.group())[1:-1], text)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _evidence_lines(evidence: list[Evidence]) -> list[str]:
    lines = []
    for item in evidence:
        for label, value in (("screenshot", item.screenshot), ("html", item.html), ("url", item.url)):
            if value:
                lines.append(f"{label}: {value}")
    return lines


def _problem(tag: str, error_class: str | None, message: str | None, evidence: list[Evidence]) -> ET.Element:
    element = ET.Element(tag, {"message": _xml_safe(message or ""), "type": _xml_safe(error_class or "")})
    body = [f"{error_class}: {message}" if error_class else (message or "")]
    body += _evidence_lines(evidence)
    element.text = _xml_safe("\n".join(line for line in body if line))
    return element


def _testcase(record: RunRecord, step: StepRecord) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": _xml_safe(f"robots.{record.flow_name}"),
            "name": _xml_safe(f"{step.index} {step.name}"),
            "time": _seconds(step.duration_ms / 1000),
        },
    )
    evidence = [e for e in record.evidence if e.step_index == step.index]
    if step.status == "failed":
        case.append(_problem("failure", step.error_class, step.error_message, evidence))
    elif step.status == "errored":
        case.append(_problem("error", step.error_class, step.error_message, evidence))
    elif step.status == "skipped":
        skipped = ET.SubElement(case, "skipped")
        if step.error_message:
            skipped.set("message", _xml_safe(step.error_message))
    elif step.status == "retried" and (step.error_class or step.error_message):
        out = ET.SubElement(case, "system-out")
        out.text = _xml_safe(f"retried after {step.error_class or 'error'}: {step.error_message or ''}")
    return case


def _run_case(record: RunRecord, kind: str) -> ET.Element:
    case = ET.Element(
        "testcase", {"classname": _xml_safe(f"robots.{record.flow_name}"), "name": "run", "time": "0.000"}
    )
    message = record.error_message or f"run {record.status}"
    evidence = [e for e in record.evidence if e.step_index not in {s.index for s in record.steps}]
    case.append(_problem(kind, record.error_class, message, evidence))
    return case


def build_junit(record: RunRecord) -> ET.Element:
    cases = [_testcase(record, step) for step in record.steps]
    statuses = [step.status for step in record.steps]
    if record.status in ("failed", "errored", "interrupted", "canceled") and not (
        {"failed", "errored"} & set(statuses)
    ):
        cases.append(_run_case(record, "failure" if record.status == "failed" else "error"))

    tests = len(cases)
    failures = sum(1 for case in cases if case.find("failure") is not None)
    errors = sum(1 for case in cases if case.find("error") is not None)
    skipped = statuses.count("skipped")
    duration = record.duration_s
    if duration is None:
        duration = sum(step.duration_ms for step in record.steps) / 1000
    counts = {
        "tests": str(tests),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": _seconds(duration),
    }

    # `skipped` belongs on <testsuite> only: the JUnit schema CI systems validate against refuses it here.
    root = ET.Element("testsuites", {"name": _xml_safe(record.flow_name),
                                     **{k: v for k, v in counts.items() if k != "skipped"}})
    started = record.started_at
    if started.tzinfo is not None:
        started = started.astimezone(UTC)
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _xml_safe(record.flow_name),
            **counts,
            # JUnit's schema has no offset in timestamps: this is UTC.
            "timestamp": started.replace(tzinfo=None).isoformat(timespec="seconds"),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("run_id", record.run_id), ("status", record.status)):
        ET.SubElement(properties, "property", {"name": name, "value": _xml_safe(value)})
    suite.extend(cases)
    ET.indent(root)
    return root


def write_junit(record: RunRecord, path: str | os.PathLike[str]) -> None:
    data = ET.tostring(build_junit(record), encoding="utf-8", xml_declaration=True)
    write_atomically(path, data + b"\n")
