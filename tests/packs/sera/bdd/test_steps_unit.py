"""The step library's own checks without a browser: the messages QA reads when a new step's expectation is not
met (a leak, a nested list, a timestamp, a schedule), and unknown text near a new step listing it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from robots.packs.sera.bdd import World, closest_steps, outputs, robots_api, runs
from robots.records.model import RunRecord, StepRecord


def _world(tmp_path: Path, outputs: dict[str, object], run_dir: Path | None = None) -> World:
    world = World(portal_url="http://127.0.0.1:9", is_sandbox=False, home=tmp_path, base=tmp_path)
    record = RunRecord.model_validate({
        "run_id": "r1", "flow_name": "f", "flow_path": str(tmp_path / "f.yaml"), "flow_sha256": "0" * 64,
        "status": "passed", "started_at": datetime(2026, 1, 1, tzinfo=UTC), "outputs": outputs,
        "run_dir": str(run_dir) if run_dir else None})
    world.record, world.records = record, [record]
    return world


def test_list_vars_leave_empty_cells_out_and_vars_come_from_outputs(tmp_path: Path) -> None:
    world = _world(tmp_path, {"membership": {"id": "77", "billing": {"cadence": "annual"}}})
    outputs._list_var(world, "lines", [["code", "quantity", "price"], ["DIA-100", "1", ""], ["PAR-118", "2", "199.50"]])
    assert world.vars["lines"] == [{"code": "DIA-100", "quantity": "1"},
                                   {"code": "PAR-118", "quantity": "2", "price": "199.50"}]
    outputs._var_from_output(world, "id", "membership", "id")
    assert world.vars["id"] == "77"
    with pytest.raises(AssertionError, match=r"^the membership output has no 'billing.price'$"):
        outputs._var_from_output(world, "price", "membership", "billing.price")


def test_a_nested_list_that_differs_shows_both_tables(tmp_path: Path) -> None:
    world = _world(tmp_path, {"work_order": {"assignments": [{"technician": "Tara Nguyen", "role": "lead"}]}})
    outputs._nested_exactly(world, "work_order", "assignments", [["technician", "role"], ["Tara Nguyen", "lead"]])
    with pytest.raises(AssertionError) as caught:
        outputs._nested_exactly(world, "work_order", "assignments", [["technician"], ["Tara Nguyen"], ["Kim Patel"]])
    assert str(caught.value) == ("the records differ\nexpected:\n  | technician |\n  | Tara Nguyen |\n"
                                 "  | Kim Patel |\ngot (1 records):\n  | Tara Nguyen |")


def test_a_time_outside_the_run_and_an_empty_field(tmp_path: Path) -> None:
    world = _world(tmp_path, {"assignment": {"assigned_at": "2026-01-01T10:05:00Z"},
                              "previous": {"next_billing_date": None, "status": "expired"}})
    world.clock_span = ("2026-01-01T10:04:00Z", "2026-01-01T10:05:00Z")
    outputs._time_during_run(world, "assignment", "assigned_at")
    world.clock_span = ("2026-01-01T10:06:00Z", "2026-01-01T10:07:00Z")
    with pytest.raises(AssertionError) as caught:
        outputs._time_during_run(world, "assignment", "assigned_at")
    assert str(caught.value) == ("assignment.assigned_at is '2026-01-01T10:05:00Z'; the run went from "
                                 "2026-01-01T10:06:00Z to 2026-01-01T10:07:00Z by the portal's clock")
    outputs._output_lacks(world, "previous", "next_billing_date")
    with pytest.raises(AssertionError, match=r"^expected no previous.status, got 'expired'$"):
        outputs._output_lacks(world, "previous", "status")


def test_a_leaked_secret_is_found_in_outputs_and_in_run_files_in_any_encoding(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "r1"
    run_dir.mkdir(parents=True)
    (run_dir / "report.html").write_text("<td>pm_a&lt;b</td>")
    world = _world(tmp_path, {"membership": {"ref": "pm_…9Qx7"}}, run_dir)
    outputs._nowhere(world, "pm_W2secretTok9Qx7")
    with pytest.raises(AssertionError) as caught:
        outputs._nowhere(world, "pm_a<b")  # HTML-escaped in the report
    assert str(caught.value) == f"found in: {run_dir / 'report.html'}"
    world.record.outputs["membership"]["token"] = "pm_W2secretTok9Qx7"  # type: ignore[union-attr,index]
    with pytest.raises(AssertionError, match=r"^found in: outputs of r1$"):
        outputs._nowhere(world, "pm_W2secretTok9Qx7")


def test_schedule_and_api_steps_say_what_is_missing(tmp_path: Path) -> None:
    world = _world(tmp_path, {})
    with pytest.raises(AssertionError, match=r"^no schedule yet \(add a `Given the schedule:` step\)$"):
        robots_api._scheduler_runs(world, "holder", 2)
    with pytest.raises(AssertionError, match=r"^robot holder has not been scheduled in this scenario$"):
        robots_api._no_overlap(world, "holder")
    robots_api._schedule(world, "- name: holder\n  flow: tests/packs/sera/bdd/flows/hold_briefly.yaml\n"
                                "  trigger: {interval: 2}\n")
    assert (tmp_path / "schedules" / "0" / "robots.yaml").read_text() == (
        f"- name: holder\n  flow: {tmp_path}/tests/packs/sera/bdd/flows/hold_briefly.yaml\n"
        "  trigger:\n    interval: 2\n")
    with pytest.raises(AssertionError, match=r"^the API is not served in this scenario"):
        robots_api._api_send(world, "POST", "/customers", "k", "{}")


def test_unknown_text_near_a_new_step_lists_it() -> None:
    assert closest_steps('the API answerd 409 with the eror "x": "y"', "then")[0] == \
        'Then the API answered {status:d} with the error "{kind}": "{message}"'
    assert closest_steps('the scheduler run until robot "holder" finished 2 runs', "when")[0] == \
        'When the scheduler runs until robot "{robot}" has finished {count:d} runs'
    assert closest_steps('the flow var "lines" is a list:', "given")[0] == 'Given the flow var "{name}" is the list:'


def test_no_record_twice_on_records_without_an_id_is_an_assertion_in_the_features_words(tmp_path: Path) -> None:
    world = _world(tmp_path, {"jobs": [{"number": "J-1", "title": "Furnace"}, {"number": "J-1", "title": "Furnace"}]})
    with pytest.raises(AssertionError) as caught:
        outputs._no_duplicates(world, "job")
    assert str(caught.value) == ('expected every one of the jobs to have an "id" to tell them apart, but 2 of 2 have '
                                 "none (the first has: number, title)")
    world = _world(tmp_path, {"jobs": [{"id": 7}, {"id": 8}, {"id": 7}]})
    with pytest.raises(AssertionError) as caught:
        outputs._no_duplicates(world, "job")
    assert str(caught.value) == "expected no job twice, but these ids are listed more than once: [7]"


@pytest.mark.parametrize(("check", "message"), [
    (lambda w: outputs._output_count(w, 3, "customers"), "expected 3 customers, the output has 1"),
    (lambda w: outputs._field_equals(w, "customer", "address.city", "Austin"),
     "expected customer.address.city = \"Austin\", got 'Dallas'"),
    (lambda w: outputs._output_is(w, "voided_now", "true"), "expected voided_now = \"true\", got False"),
    (lambda w: outputs._output_lacks(w, "customer", "address.city"), "expected no customer.address.city, got 'Dallas'"),
    (lambda w: runs._passed(w), "expected the run to pass, but the run failed: CredentialsRejected: login rejected "
                                "(steps[0] login: failed)"),
    (lambda w: runs._status(w, "errored"), 'expected the run status "errored", but the run failed: '
                                            "CredentialsRejected: login rejected (steps[0] login: failed)"),
    (lambda w: runs._failure_class(w, "SessionLost"), 'expected the failure class "SessionLost", but the run failed: '
                                                       "CredentialsRejected: login rejected (steps[0] login: failed)"),
])  # fmt: skip
def test_a_failed_expectation_names_the_expected_and_the_actual(tmp_path: Path, check, message) -> None:
    world = _world(tmp_path, {"customers": [{"id": 1}], "customer": {"address": {"city": "Dallas"}},
                              "voided_now": False})
    world.record = world.records[0] = world.record.model_copy(update={
        "status": "failed", "error_class": "CredentialsRejected", "error_message": "login rejected",
        "steps": (StepRecord(index=0, name="steps[0] login", status="failed",
                             started_at=datetime(2026, 1, 1, tzinfo=UTC), duration_ms=1.0),)})
    with pytest.raises(AssertionError) as caught:
        check(world)
    assert str(caught.value) == message
