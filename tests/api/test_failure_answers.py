"""The API's answer to a run that did not pass, by the run's failure class (robots.api.flows.failure): a pure
mapping from the record, no server needed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytest.importorskip("fastapi")

from robots.api.flows import failure  # noqa: E402
from robots.records.model import ErrorLocation, RunRecord  # noqa: E402


def _record(**fields: object) -> RunRecord:
    return RunRecord.model_validate({"run_id": "r1", "flow_name": "f", "flow_path": "f.yaml", "flow_sha256": "0" * 64,
                                     "status": "errored", "started_at": datetime(2026, 1, 1, tzinfo=UTC), **fields})


def test_an_input_error_a_step_found_is_answered_422_not_a_portal_failure() -> None:
    answer = failure(_record(error_class="InputError", failure_kind="input",
                             error_message="checksum: no such file 'missing.csv'",
                             error_location=ErrorLocation(file="f.yaml", line=9, step="steps[2].checksum")))
    assert (answer.status, answer.type, answer.message) == (422, "invalid_input",
                                                            "checksum: no such file 'missing.csv'")
    assert answer.details["failure_kind"] == "input"
    assert answer.details["where"] == "f.yaml:9: steps[2].checksum"


def test_a_technical_error_is_still_a_bad_gateway() -> None:
    answer = failure(_record(error_class="ElementNotFound", failure_kind="technical", error_message="no element"))
    assert (answer.status, answer.message) == (502, "no element")
