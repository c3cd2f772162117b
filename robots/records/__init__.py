"""Run records (docs/CONTRACTS.md C3): the frozen models, the stores that keep them, and `open_store`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from robots.records.model import SCHEMA_VERSION, Evidence, RunRecord, StepRecord
from robots.records.store import (
    RUN_STATUSES,
    InvalidRunQuery,
    MemoryStore,
    RecordVersionError,
    RunNotFound,
    RunStore,
    SqlStore,
)

__all__ = [
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "Evidence",
    "InvalidRunQuery",
    "MemoryStore",
    "RecordVersionError",
    "RunNotFound",
    "RunRecord",
    "RunStore",
    "SqlStore",
    "StepRecord",
    "default_database_url",
    "open_store",
]

DATABASE_URL_ENV = "ROBOTS_DATABASE_URL"
MEMORY_URL = "memory://"


def default_database_url() -> URL:
    """`sqlite:///<cwd>/.robots/robots.db`, creating the `.robots` folder."""
    folder = Path.cwd() / ".robots"
    folder.mkdir(parents=True, exist_ok=True)
    return URL.create("sqlite", database=str(folder / "robots.db"))


def open_store(url: str | None = None) -> RunStore:
    """The store at `url`, else `$ROBOTS_DATABASE_URL`, else a SQLite file under `./.robots/`.

    `memory://` gives a `MemoryStore` (nothing is kept after the process ends).
    """
    from robots.settings import settings

    url = url or settings().database_url
    if url == MEMORY_URL:
        return MemoryStore()
    return SqlStore(url if url is not None else default_database_url())
