"""Seed data: deterministic per (seed, size), realistic in shape, cached as an atomically built snapshot."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from robots.packs.sera.sandbox import SIZES
from robots.packs.sera.sandbox.data import ensure_snapshot, generate_customers, snapshot_path


def test_same_seed_and_size_give_identical_data() -> None:
    assert generate_customers(1234, "small") == generate_customers(1234, "small")


def test_a_different_seed_gives_different_data() -> None:
    assert generate_customers(1234, "small") != generate_customers(99, "small")


def test_snapshots_of_the_same_seed_are_byte_identical(tmp_path: Path) -> None:
    first = ensure_snapshot(7, "small", tmp_path / "a")
    second = ensure_snapshot(7, "small", tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()


def test_snapshot_is_built_once_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    built = ensure_snapshot(7, "small", tmp_path)
    stamp = built.stat().st_mtime_ns
    assert ensure_snapshot(7, "small", tmp_path) == built == snapshot_path(7, "small", tmp_path)
    assert built.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [built.name]


def test_unknown_size_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown sandbox size 'huge'; expected one of small, default"):
        generate_customers(1, "huge")


def test_default_data_has_the_shape_of_a_real_customer_list() -> None:
    customers = generate_customers()
    assert len(customers) == SIZES["default"] == 2500
    assert [c.id for c in customers] == list(range(1001, 3501))
    assert all(re.fullmatch(r"C-\d{6}", c.number) for c in customers)
    assert customers[2].name == "Zoë O'Brien" and customers[2].email == "Zoe.OBrien@Example.com"
    share = Counter(c.type for c in customers)["commercial"] / len(customers)
    assert 0.15 < share < 0.25
    statuses = Counter(c.status for c in customers)
    assert statuses["active"] > statuses["inactive"] > statuses["on_hold"] > 0
    assert 0 < sum(c.email is None for c in customers) < 0.1 * len(customers)
    assert 0 < sum(c.phone is None for c in customers) < 0.15 * len(customers)
    assert any(c.balance_cents < 0 for c in customers)
    assert max(c.balance_cents for c in customers) <= 1_200_000
    assert any(c.balance_cents > 100_000 for c in customers)  # shows a thousands separator
    assert any(c.email and c.email != c.email.lower() for c in customers)
    assert any("&" in c.name for c in customers) and any("'" in c.name for c in customers)
    created = [c.created_at for c in customers]
    assert created == sorted(created)
    assert "2019-01-01" <= created[0] and created[-1] < "2026-12-31"
