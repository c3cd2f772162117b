"""The RunStore contract, run against MemoryStore and SqlStore(SQLite file) alike."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from record_builders import PLUS_TWO, T0, full_record, make_record, make_step

from robots.errors import InputError, RobotsError
from robots.records import InvalidRunQuery, RecordVersionError, RunNotFound, RunRecord, RunStore
from robots.records.store import load_record


def test_roundtrip_keeps_every_field(store: RunStore) -> None:
    record = full_record()
    store.save(record)

    loaded = store.get("run-full")

    assert loaded == record
    assert loaded.started_at.utcoffset() == timedelta(hours=2)
    assert loaded.started_at == datetime(2025, 3, 4, 10, 0, 0, 500000, tzinfo=UTC)
    assert loaded.steps[2].error_message == 'Portal said: "Zip & city" <required>'
    assert loaded.outputs["customers"][1]["address"] == {"city": "Köln", "zip": None}
    assert loaded.evidence[0].url == "https://acme.sera.tech/customers?q=a&b=1"
    assert loaded.duration_s == 29.5


def test_roundtrip_of_a_minimal_running_record(store: RunStore) -> None:
    record = make_record("r", status="running", ended_at=None)
    store.save(record)

    loaded = store.get("r")

    assert loaded == record
    assert loaded.ended_at is None
    assert loaded.steps == ()
    assert loaded.schema_version == 4


def test_get_returns_a_new_object_each_time(store: RunStore) -> None:
    store.save(full_record())

    first = store.get("run-full")
    first.outputs["customers"].clear()  # frozen model, mutable dict inside: must not leak into the store

    assert len(store.get("run-full").outputs["customers"]) == 2


def test_saving_again_replaces_the_record(store: RunStore) -> None:
    running = make_record("r", status="running", ended_at=None, steps=(make_step(0), make_step(1)))
    store.save(running)
    finished = running.model_copy(
        update={
            "status": "errored",
            "ended_at": T0 + timedelta(seconds=3),
            "steps": (make_step(0), make_step(1, status="errored", error_class="Boom", error_message="x")),
            "error_class": "Boom",
        }
    )
    store.save(finished)

    assert store.get("r") == finished
    assert [r.run_id for r in store.list()] == ["r"]


def test_saving_fewer_steps_drops_the_rest(store: RunStore) -> None:
    store.save(make_record("r", steps=(make_step(0), make_step(1), make_step(2))))
    store.save(make_record("r", steps=(make_step(0, name="only"),)))

    assert [s.name for s in store.get("r").steps] == ["only"]


def test_unknown_run_raises_run_not_found(store: RunStore) -> None:
    store.save(make_record("r"))

    with pytest.raises(RunNotFound) as caught:
        store.get("nope")

    assert isinstance(caught.value, LookupError)
    assert isinstance(caught.value, InputError)
    assert caught.value.exit_code == 2
    assert caught.value.run_id == "nope"
    assert str(caught.value) == "no run with id 'nope'"


def _seed(store: RunStore) -> None:
    # a..e started one minute apart; c is at 10:02+02:00, i.e. 08:02 UTC, so it is the oldest.
    store.save(make_record("a", flow_name="f1", status="passed", started_at=T0))
    store.save(make_record("b", flow_name="f2", status="failed", started_at=T0 + timedelta(minutes=1)))
    store.save(
        make_record("c", flow_name="f1", status="failed", started_at=datetime(2025, 3, 4, 10, 2, tzinfo=PLUS_TWO))
    )
    store.save(make_record("d", flow_name="f1", status="running", ended_at=None, started_at=T0 + timedelta(minutes=3)))
    store.save(make_record("e", flow_name="f2", status="passed", started_at=T0 + timedelta(minutes=4)))


def test_list_is_newest_first_by_utc_start(store: RunStore) -> None:
    _seed(store)

    assert [r.run_id for r in store.list()] == ["e", "d", "b", "a", "c"]


def test_list_limit(store: RunStore) -> None:
    _seed(store)

    assert [r.run_id for r in store.list(limit=2)] == ["e", "d"]
    assert store.list(limit=0) == []
    assert [r.run_id for r in store.list(limit=None)] == ["e", "d", "b", "a", "c"]


def test_list_default_limit_is_20(store: RunStore) -> None:
    for n in range(25):
        store.save(make_record(f"r{n:02d}", started_at=T0 + timedelta(seconds=n)))

    listed = store.list()

    assert len(listed) == 20
    assert listed[0].run_id == "r24"
    assert listed[-1].run_id == "r05"


def test_list_filters_by_flow_and_status(store: RunStore) -> None:
    _seed(store)

    assert [r.run_id for r in store.list(flow="f1")] == ["d", "a", "c"]
    assert [r.run_id for r in store.list(status="failed")] == ["b", "c"]
    assert [r.run_id for r in store.list(flow="f1", status="failed")] == ["c"]
    assert [r.run_id for r in store.list(flow="f1", status="failed", limit=0)] == []
    assert store.list(flow="nope") == []
    assert store.list(status="canceled") == []


def test_list_breaks_ties_by_run_id(store: RunStore) -> None:
    for run_id in ["m", "z", "a"]:
        store.save(make_record(run_id))

    assert [r.run_id for r in store.list()] == ["z", "m", "a"]


def test_list_rejects_unknown_status_and_bad_limit(store: RunStore) -> None:
    with pytest.raises(InvalidRunQuery) as caught:
        store.list(status="pased")
    assert str(caught.value) == (
        "unknown run status 'pased'; known: running, passed, failed, errored, interrupted, skipped, canceled"
    )
    with pytest.raises(InvalidRunQuery) as caught:
        store.list(limit=-1)
    assert str(caught.value) == "limit must be a whole number >= 0 or None, got -1"


def test_record_from_a_newer_robots_is_refused(store: RunStore) -> None:
    store.save(RunRecord.model_construct(**{**make_record("future").__dict__, "schema_version": 99}))

    with pytest.raises(RecordVersionError) as caught:
        store.get("future")

    assert str(caught.value) == (
        "run 'future' has record schema version 99, newer than this robots understands (4); upgrade robots to read it"
    )
    assert isinstance(caught.value, RobotsError)


def test_two_threads_share_one_store(store: RunStore) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=30)

    def work(prefix: str) -> None:
        try:
            start.wait()
            for n in range(50):
                running = make_record(
                    f"{prefix}{n:02d}", status="running", ended_at=None, started_at=T0 + timedelta(seconds=n)
                )
                store.save(running)
                store.save(running.model_copy(update={"status": "passed", "steps": (make_step(0),)}))
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    listed = store.list(limit=None)
    assert len(listed) == 100
    assert {r.status for r in listed} == {"passed"}
    assert store.list(limit=2, status="passed")[0].run_id == "y49"


def test_store_is_a_context_manager(store: RunStore) -> None:
    with store as opened:
        opened.save(make_record("r"))
        assert opened.get("r").run_id == "r"
    store.close()  # twice is harmless


def test_a_version_1_record_reads_as_the_current_version() -> None:
    old = make_record("old").model_dump(mode="json")
    old["schema_version"] = 1
    for step in old["steps"]:
        for field in ("attempts", "selector", "drift"):
            del step[field]
    for ev in old["evidence"]:
        del ev["console"], ev["network"]
    del old["browser"], old["dry_run"]

    loaded = load_record(json.dumps(old))

    assert loaded.schema_version == 4
    assert [(s.attempts, s.selector, s.drift) for s in loaded.steps] == [(1, None, None)] * len(loaded.steps)
    assert loaded.browser is None


def test_list_since_and_before(store: RunStore) -> None:
    for day in range(5):
        store.save(make_record(f"day-{day}", started_at=datetime(2025, 5, 1 + day, 12, tzinfo=UTC)))

    since = datetime(2025, 5, 2, 12, tzinfo=UTC)
    before = datetime(2025, 5, 4, 12, tzinfo=UTC)
    assert [r.run_id for r in store.list(since=since)] == ["day-4", "day-3", "day-2", "day-1"]
    assert [r.run_id for r in store.list(since=since, before=before)] == ["day-2", "day-1"]
    # an offset-aware bound in another zone means the same instant
    assert [r.run_id for r in store.list(before=datetime(2025, 5, 2, 14, tzinfo=PLUS_TWO))] == ["day-0"]


def test_delete_removes_the_record_and_its_steps(store: RunStore) -> None:
    store.save(full_record("gone"))
    store.save(make_record("kept"))

    store.delete("gone")

    assert [r.run_id for r in store.list()] == ["kept"]
    with pytest.raises(RunNotFound):
        store.get("gone")
    with pytest.raises(RunNotFound):
        store.delete("gone")
