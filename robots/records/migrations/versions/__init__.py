"""Alembic revisions (Alembic skips this file); a package so the revisions ship in the wheel."""
