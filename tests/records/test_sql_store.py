"""SqlStore on a real SQLite file: the migrated schema, SQLite settings, SQL-visible steps, concurrency."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from record_builders import T0, full_record, make_record, make_step
from sqlalchemy import inspect, text

from robots.records import SqlStore
from robots.records.migrations import MIGRATIONS_DIR, alembic_config, current_revision, head_revision
from robots.records.schema import Base


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


@pytest.fixture
def sql_store(db_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{db_path}")
    try:
        yield store
    finally:
        store.close()


def test_migration_created_the_tables(sql_store: SqlStore) -> None:
    inspector = inspect(sql_store.engine)

    assert {"alembic_version", "run_steps", "runs", "portal_sessions", "session_leases", "login_blocks"} <= set(
        inspector.get_table_names())
    assert [c["name"] for c in inspector.get_columns("runs")] == [
        "run_id",
        "flow_name",
        "status",
        "started_at",
        "ended_at",
        "schema_version",
        "record_json",
    ]
    assert [c["name"] for c in inspector.get_columns("run_steps")] == [
        "run_id",
        "step_index",
        "step_id",
        "name",
        "status",
        "started_at",
        "duration_ms",
        "error_class",
        "error_message",
    ]
    assert inspector.get_pk_constraint("runs")["constrained_columns"] == ["run_id"]
    assert inspector.get_pk_constraint("run_steps")["constrained_columns"] == ["run_id", "step_index"]
    assert sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes("runs")) == [
        ("ix_runs_flow_name", ("flow_name",)),
        ("ix_runs_started_at", ("started_at",)),
        ("ix_runs_status", ("status",)),
    ]
    assert [(i["name"], i["column_names"]) for i in inspector.get_indexes("run_steps")] == [
        ("ix_run_steps_status", ["status"])
    ]
    [fk] = inspector.get_foreign_keys("run_steps")
    assert (fk["referred_table"], fk["referred_columns"], fk["options"]) == (
        "runs",
        ["run_id"],
        {"ondelete": "CASCADE"},
    )
    with sql_store.engine.connect() as connection:
        assert current_revision(connection) == head_revision() == sorted(REVISIONS)[-1]


# The revisions shipped: files NNNN_*.py, numbered in order, each revising the one before.
REVISIONS = [f.name[:4] for f in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]


def test_migration_matches_the_orm_tables(sql_store: SqlStore) -> None:
    import robots.api.tables  # noqa: F401 - the API declares its tables on the same Base, in the same database

    with sql_store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert diff == []


def test_migration_downgrades_and_upgrades_again(db_path: Path) -> None:
    SqlStore(f"sqlite:///{db_path}").close()
    config = alembic_config(f"sqlite:///{db_path}")

    command.downgrade(config, "base")
    with sqlite3.connect(db_path) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"alembic_version"}

    store = SqlStore(f"sqlite:///{db_path}")
    store.save(make_record("r"))
    assert store.get("r").run_id == "r"
    store.close()


def test_reopening_keeps_records_and_does_not_migrate_again(db_path: Path) -> None:
    first = SqlStore(f"sqlite:///{db_path}")
    first.save(full_record())
    first.close()

    second = SqlStore(f"sqlite:///{db_path}")
    try:
        assert second.get("run-full") == full_record()
        with second.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert versions == [(head_revision(),)]
    finally:
        second.close()


def test_missing_folders_are_created(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'a' / 'b' / 'runs.db'}")
    store.close()

    assert (tmp_path / "a" / "b" / "runs.db").is_file()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sql_store: SqlStore, db_path: Path) -> None:
    with sql_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    # WAL is a property of the file: any other client sees it too.
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_readers_are_not_blocked_by_an_open_write(sql_store: SqlStore, db_path: Path) -> None:
    sql_store.save(make_record("r", status="running"))
    writer = sqlite3.connect(db_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE runs SET status = 'passed'")

        assert sql_store.get("r").status == "running"
        assert [r.run_id for r in sql_store.list(status="running")] == ["r"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_timestamps_are_stored_as_utc(sql_store: SqlStore) -> None:
    sql_store.save(full_record())  # started 12:00:00.5+02:00, ended 12:00:30+02:00

    with sql_store.engine.connect() as connection:
        row = connection.execute(text("SELECT started_at, ended_at, flow_name, status, schema_version FROM runs")).one()
        step_starts = connection.execute(text("SELECT started_at FROM run_steps ORDER BY step_index")).scalars().all()

    assert tuple(row) == (
        "2025-03-04 10:00:00.500000",
        "2025-03-04 10:00:30.000000",
        "list_customers",
        "failed",
        4,
    )
    assert step_starts == [
        "2025-03-04 10:00:00.123456",
        "2025-03-04 10:00:01.123456",
        "2025-03-04 10:00:02.123456",
    ]


def test_steps_are_queryable_with_sql(sql_store: SqlStore) -> None:
    sql_store.save(full_record())

    with sql_store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT run_id, step_index, step_id, name, status, duration_ms, error_class, error_message"
                " FROM run_steps WHERE run_id = :run_id ORDER BY step_index"
            ),
            {"run_id": "run-full"},
        ).all()

    assert [tuple(row) for row in rows] == [
        ("run-full", 0, "open", "goto open", "passed", 250.5, None, None),
        ("run-full", 1, None, "fill search", "retried", 251.5, "TimeoutError", "no element"),
        (
            "run-full",
            2,
            None,
            "click submit",
            "failed",
            252.5,
            "ValidationFailed",
            'Portal said: "Zip & city" <required>',
        ),
    ]


def test_saving_again_rewrites_the_step_rows(sql_store: SqlStore) -> None:
    sql_store.save(make_record("r", steps=(make_step(0), make_step(1), make_step(2))))
    sql_store.save(make_record("r", status="failed", steps=(make_step(0, status="failed"),)))

    with sql_store.engine.connect() as connection:
        steps = connection.execute(text("SELECT run_id, step_index, status FROM run_steps")).all()
        runs = connection.execute(text("SELECT run_id, status FROM runs")).all()

    assert [tuple(s) for s in steps] == [("r", 0, "failed")]
    assert [tuple(r) for r in runs] == [("r", "failed")]


def test_two_stores_on_one_file_write_concurrently(db_path: Path) -> None:
    """Two threads, each with its own SqlStore (as two processes would), 50 runs each, 3 saves a run."""
    stores = {prefix: SqlStore(f"sqlite:///{db_path}") for prefix in ("x", "y")}
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=30)

    def work(prefix: str) -> None:
        store = stores[prefix]
        try:
            start.wait()
            for n in range(50):
                record = make_record(
                    f"{prefix}{n:02d}", status="running", ended_at=None, started_at=T0 + timedelta(seconds=n)
                )
                store.save(record)
                record = record.model_copy(update={"steps": (make_step(0),)})
                store.save(record)
                store.get(record.run_id)
                store.save(record.model_copy(update={"status": "passed", "ended_at": T0}))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores.values():
        store.close()

    assert errors == []
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall() == [("passed", 100)]
        assert raw.execute("SELECT count(*) FROM run_steps").fetchone() == (100,)


def test_two_stores_migrating_a_new_file_at_once(db_path: Path) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=30)

    def open_and_save(run_id: str) -> None:
        try:
            start.wait()
            store = SqlStore(f"sqlite:///{db_path}")
            store.save(make_record(run_id))
            store.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_save, args=(r,)) for r in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall() == [("a",), ("b",)]
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]


def test_repr_shows_the_url(db_path: Path) -> None:
    store = SqlStore(f"sqlite:///{db_path}")
    store.close()

    assert repr(store) == f"SqlStore('sqlite:///{db_path}')"


def test_a_database_at_head_opens_without_importing_alembic(db_path: Path) -> None:
    """Alembic (with Mako and Pygments behind it) costs more than the rest of a run's start-up: a store whose
    database is already at the newest revision is opened without it; an older one is still upgraded."""
    import subprocess
    import sys

    from robots.records.migrations import HEAD

    assert HEAD == head_revision()  # the constant names the newest file in versions/
    SqlStore(f"sqlite:///{db_path}").close()
    opened = ("import sys; from robots.records import SqlStore; SqlStore(sys.argv[1]).close(); "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako', 'pygments')))")
    done = subprocess.run([sys.executable, "-c", opened, f"sqlite:///{db_path}"], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout == "[]\n", done.stderr

    store = SqlStore(f"sqlite:///{db_path}")
    try:
        with store.engine.begin() as connection:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "0005")
    finally:
        store.close()
    older = SqlStore(f"sqlite:///{db_path}")
    try:
        with older.engine.connect() as connection:
            assert current_revision(connection) == HEAD
            assert inspect(connection).has_table("api_runs")
    finally:
        older.close()
