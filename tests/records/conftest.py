"""Makes `robots` importable and provides the store fixture that runs each contract test on every store.

PostgreSQL: set ROBOTS_TEST_POSTGRES_URL to a server URL whose user may create databases
(e.g. `postgresql+psycopg://postgres@/postgres?host=/tmp/pg&port=5432`); each test gets its own
database. Unset, those tests skip, except under CI=true, where they fail (docs/CONTRACTS.md C7).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from robots.records import MemoryStore, RunStore, SqlStore

POSTGRES_URL_ENV = "ROBOTS_TEST_POSTGRES_URL"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    if request.param == "postgres":
        yield from _postgres_store()
        return
    opened: RunStore = MemoryStore() if request.param == "memory" else SqlStore(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        yield opened
    finally:
        opened.close()


def _postgres_store() -> Iterator[RunStore]:
    server_url = os.environ.get(POSTGRES_URL_ENV)
    if not server_url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_URL_ENV} is not set; CI must run the store tests on PostgreSQL")
        pytest.skip(f"set {POSTGRES_URL_ENV} to run the store tests on PostgreSQL")
    name = f"robots_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        opened = SqlStore(make_url(server_url).set(database=name))
        try:
            yield opened
        finally:
            opened.close()
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
