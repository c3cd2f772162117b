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

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at this folder; `url` is only needed for offline (--sql) use."""
    cfg = Config()
    # Config values go through ConfigParser interpolation, so a literal % must be doubled.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "robots/records/migrations/versions holds no revision"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Upgrade the database behind `connection` (inside its transaction) to `revision`."""
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    log.debug("upgrading run-record schema to %s", revision)
    command.upgrade(cfg, revision)
