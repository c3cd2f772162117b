"""Alembic migrations for the run-record tables, shipped inside the package (no alembic.ini needed).

The database has one history for every table in it, the run store's and those other packages declare on its
`Base` (robots.records.schema) in their own modules. Autogenerate compares the database with the tables of the
modules imported, so a new revision is made with those imported too, from the repository root:

    python -c "import robots.api.tables; from alembic import command; \\
    from robots.records.migrations import alembic_config; \\
    command.revision(alembic_config('sqlite:///.robots/robots.db'), autogenerate=True, message='...')"
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent

#: The newest revision in versions/ (tests/records/test_sql_store.py checks it against Alembic's own view; a new
#: revision changes it). A database already there is opened without importing Alembic, which with Mako and Pygments
#: behind it costs more than all the rest of a run's start-up.
HEAD = "0006"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at this folder; `url` is only needed for offline (--sql) use."""
    from alembic.config import Config

    cfg = Config()
    # Config values go through ConfigParser interpolation, so a literal % must be doubled.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "robots/records/migrations/versions holds no revision"
    return head


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _stored_revisions(connection: Connection) -> list[str]:
    """The revisions the database says it is at (Alembic's version table), without Alembic; [] before the first."""
    if not inspect(connection).has_table("alembic_version"):
        return []
    return [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Upgrade the database behind `connection` (inside its transaction) to `revision`."""
    if revision == "head" and _stored_revisions(connection) == [HEAD]:
        return
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    log.debug("upgrading run-record schema to %s", revision)
    command.upgrade(cfg, revision)
