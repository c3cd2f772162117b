"""Deterministic seed data for the sandbox and the cached SQLite snapshots it starts from (CONTRACTS C6).

Everything here is a function of (seed, size): no wall clock, no global random state. The snapshot of each
(seed, size, DATA_VERSION) is built once into a cache directory and copied by every server that needs it.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import faker

# Bump when the schema or the generator changes, so stale snapshots are never reused.
DATA_VERSION = 1
DEFAULT_SEED = 1234
SIZES: dict[str, int] = {"small": 120, "default": 2500}

FIRST_ID = 1001
_EPOCH_START = datetime(2019, 1, 7, 15, 0, tzinfo=UTC)
_EPOCH_END = datetime(2026, 3, 27, 22, 0, tzinfo=UTC)

# Names a real customer list has and naive scrapers mangle: accents, apostrophes.
_ACCENTED_FIRST = ["Zoë", "José", "Renée", "Chloé", "André", "Noël", "Inés", "Søren", "Björn", "Léa"]
_TRICKY_LAST = ["O'Brien", "D'Angelo", "Núñez", "O'Connor", "Müller", "Peña", "De León", "O'Neil", "García"]
_FAMILY_TRADES = ["Plumbing", "Mechanical", "Electric", "Construction", "Roofing"]
_BUSINESSES = ["Properties", "Dental Group", "Restaurant Group", "Apartments", "Property Management", "Bakery"]
_LOCAL_CITIES = [
    ("Austin", 40), ("Round Rock", 10), ("Cedar Park", 8), ("Pflugerville", 7), ("Georgetown", 6),
    ("Leander", 5), ("San Marcos", 4), ("Kyle", 4), ("Buda", 3), ("Lakeway", 2), ("Bee Cave", 2),
    ("Manor", 2), ("Hutto", 2),
]  # fmt: skip
_AREA_CODES = ["512", "512", "512", "737"]
_EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('residential', 'commercial')),
    email TEXT,
    phone TEXT,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    balance_cents INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'on_hold'))
);
"""


@dataclass(frozen=True)
class Customer:
    id: int
    number: str
    name: str
    type: str
    email: str | None
    phone: str | None  # ten digits, no punctuation; the portal formats it
    city: str
    state: str
    balance_cents: int
    created_at: str  # UTC, "YYYY-MM-DDTHH:MM:SSZ"
    status: str


COLUMNS = [f.name for f in fields(Customer)]


def _pinned(customer: Customer) -> Customer:
    """Customer 1003 in every data set: accents, an apostrophe, a mixed-case e-mail, a thousands separator."""
    return replace(
        customer,
        name="Zoë O'Brien",
        type="residential",
        email="Zoe.OBrien@Example.com",
        phone="5125550143",
        city="Austin",
        state="TX",
        balance_cents=123450,
        status="active",
    )


def size_count(size: str) -> int:
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(f"unknown sandbox size {size!r}; expected one of {', '.join(SIZES)}") from None


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum())


def _email(rng: random.Random, local_parts: list[str], domain: str) -> str:
    style = rng.random()
    if style < 0.15:  # typed by hand into the portal years ago: "Zoe.OBrien@Example.com"
        return ".".join(p[:1].upper() + p[1:] for p in local_parts) + "@" + domain.capitalize()
    if style < 0.25:
        return "".join(local_parts).lower() + str(rng.randint(1, 99)) + "@" + domain
    return ".".join(local_parts).lower() + "@" + domain


def _created_instants(rng: random.Random, count: int) -> list[str]:
    """Sorted business-hours instants, so ids and creation times rise together as in a real system."""
    span = int((_EPOCH_END - _EPOCH_START).total_seconds())
    offsets = sorted(rng.randrange(span) for _ in range(count))
    return [(_EPOCH_START + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in offsets]


def _balance(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.70:
        return 0
    if roll < 0.95:  # log-uniform between $5.00 and $12,000.00
        return int(math.exp(rng.uniform(math.log(500), math.log(1_200_000))))
    return -rng.randint(500, 50_000)


def generate_customers(seed: int = DEFAULT_SEED, size: str = "default") -> list[Customer]:
    """The customer list for (seed, size): the same arguments always give the same list."""
    count = size_count(size)
    fake = faker.Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(f"sera-customers-{seed}")
    created = _created_instants(rng, count)
    cities = [c for c, _ in _LOCAL_CITIES]
    weights = [w for _, w in _LOCAL_CITIES]
    customers: list[Customer] = []
    for index in range(count):
        cid = FIRST_ID + index
        commercial = rng.random() < 0.20
        email: str | None
        if commercial:
            last = fake.last_name()
            roll = rng.random()
            if roll < 0.15:
                name = f"{last} & Sons {rng.choice(_FAMILY_TRADES)}"
            elif roll < 0.30:
                name = f"{last} {rng.choice(_BUSINESSES)}"
            else:
                name = fake.company()
            slug = _ascii(name.split(",")[0].split(" ")[0]).lower() or "office"
            email = _email(rng, [rng.choice(["office", "info", "ap", "billing"])], f"{slug}.{_EMAIL_DOMAINS[0]}")
        else:
            first = rng.choice(_ACCENTED_FIRST) if rng.random() < 0.05 else fake.first_name()
            last = rng.choice(_TRICKY_LAST) if rng.random() < 0.06 else fake.last_name()
            name = f"{first} {last}"
            email = _email(rng, [_ascii(first), _ascii(last)], rng.choice(_EMAIL_DOMAINS))
        if rng.random() < 0.05:
            email = None
        phone = None
        if rng.random() >= 0.08:
            phone = f"{rng.choice(_AREA_CODES)}555{rng.randint(100, 199):04d}"
        if rng.random() < 0.85:
            city, state = rng.choices(cities, weights)[0], "TX"
        else:
            city, state = fake.city(), fake.state_abbr(include_territories=False)
        status = rng.choices(["active", "inactive", "on_hold"], [80, 15, 5])[0]
        customers.append(
            Customer(
                id=cid,
                number=f"C-{99000 + cid:06d}",
                name=name,
                type="commercial" if commercial else "residential",
                email=email,
                phone=phone,
                city=city,
                state=state,
                balance_cents=_balance(rng),
                created_at=created[index],
                status=status,
            )
        )
    if count > 2:  # a fixed, well-known awkward row that tests and docs can point at
        customers[2] = _pinned(customers[2])
    return customers


def write_database(path: Path, seed: int, size: str, customers: Iterable[Customer] | None = None) -> None:
    """Create a fresh database file at `path` holding the seed data."""
    rows = list(customers) if customers is not None else generate_customers(seed, size)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        meta = {"seed": str(seed), "size": size, "data_version": str(DATA_VERSION), "faker": faker.VERSION}
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))
        placeholders = ", ".join("?" for _ in COLUMNS)
        conn.executemany(
            f"INSERT INTO customers ({', '.join(COLUMNS)}) VALUES ({placeholders})", (astuple(c) for c in rows)
        )
        conn.commit()
    finally:
        conn.close()


def cache_dir() -> Path:
    configured = os.environ.get("ROBOTS_SANDBOX_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "robots" / "sandbox"


def _fingerprint() -> str:
    """What the data depends on besides (seed, size): this generator's source and Faker's version. A
    snapshot built by other code is never reused, even if someone forgets to bump DATA_VERSION."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(faker.VERSION.encode())
    return digest.hexdigest()[:12]


def snapshot_path(seed: int = DEFAULT_SEED, size: str = "default", directory: Path | None = None) -> Path:
    """Where the snapshot for (seed, size) lives."""
    size_count(size)
    directory = directory if directory is not None else cache_dir()
    return directory / f"sera-v{DATA_VERSION}-{size}-seed{seed}-{_fingerprint()}.sqlite3"


def ensure_snapshot(seed: int = DEFAULT_SEED, size: str = "default", directory: Path | None = None) -> Path:
    """The snapshot for (seed, size), built first if missing.

    Built into a temporary file and renamed into place, so a concurrent builder or reader never sees half a
    database; two processes racing both build, and the second rename replaces an identical file.
    """
    target = snapshot_path(seed, size, directory)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # sqlite3 wants to create the file itself
        write_database(tmp, seed, size)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    for stale in target.parent.glob(f"sera-v*-{size}-seed{seed}-*.sqlite3"):
        if stale != target:  # built by an older generator; a server already copying it keeps its open file
            stale.unlink(missing_ok=True)
    return target
