"""open_store: the URL from the argument, else ROBOTS_DATABASE_URL, else ./.robots/robots.db."""

from __future__ import annotations

from pathlib import Path

import pytest
from record_builders import make_record

from robots.records import MemoryStore, SqlStore, open_store


def test_default_is_a_sqlite_file_under_dot_robots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROBOTS_DATABASE_URL", raising=False)

    store = open_store()
    try:
        store.save(make_record("r"))
        assert isinstance(store, SqlStore)
        assert store.url.database == str(tmp_path / ".robots" / "robots.db")
    finally:
        store.close()
    assert (tmp_path / ".robots" / "robots.db").is_file()


def test_environment_variable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROBOTS_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")

    store = open_store()
    store.close()

    assert isinstance(store, SqlStore)
    assert (tmp_path / "env.db").is_file()
    assert not (tmp_path / ".robots").exists()


def test_argument_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOTS_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")

    store = open_store(f"sqlite:///{tmp_path / 'arg.db'}")
    store.close()

    assert (tmp_path / "arg.db").is_file()
    assert not (tmp_path / "env.db").exists()


def test_memory_url_gives_a_memory_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOTS_DATABASE_URL", "memory://")

    assert isinstance(open_store(), MemoryStore)


def test_folder_with_odd_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    odd = tmp_path / "runs #1 ?100%"
    odd.mkdir()
    monkeypatch.chdir(odd)
    monkeypatch.delenv("ROBOTS_DATABASE_URL", raising=False)

    store = open_store()
    store.save(make_record("r"))
    store.close()

    assert (odd / ".robots" / "robots.db").is_file()
