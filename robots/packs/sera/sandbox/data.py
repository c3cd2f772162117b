"""Deterministic seed data for the sandbox and the cached SQLite snapshots it starts from (docs/CONTRACTS.md C6).

Everything here is a function of (seed, size, tenant): no wall clock, no global random state. The snapshot of
each (tenant, seed, size, DATA_VERSION) is built once into a cache directory and copied by every server that
needs it. Each kind of record draws from its own random stream, so adding work orders never changes customers.
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
from typing import Any
from zoneinfo import ZoneInfo

import faker

from . import ledger
from .spa_build import cache_dir
from .tenants import PRIMARY, TENANTS, Tenant

# Bump when the schema or the generator changes, so stale snapshots are never reused.
DATA_VERSION = 3
DEFAULT_SEED = 1234
SIZES: dict[str, int] = {"small": 120, "default": 2500}

FIRST_ID = 1001
FIRST_WORK_ORDER_ID = 50001
_EPOCH_START = datetime(2019, 1, 7, 15, 0, tzinfo=UTC)
_EPOCH_END = datetime(2026, 3, 27, 22, 0, tzinfo=UTC)

# Names a real customer list has and naive scrapers mangle: accents, apostrophes.
_ACCENTED_FIRST = ["Zoë", "José", "Renée", "Chloé", "André", "Noël", "Inés", "Søren", "Björn", "Léa"]
_TRICKY_LAST = ["O'Brien", "D'Angelo", "Núñez", "O'Connor", "Müller", "Peña", "De León", "O'Neil", "García"]
_FAMILY_TRADES = ["Plumbing", "Mechanical", "Electric", "Construction", "Roofing"]
_BUSINESSES = ["Properties", "Dental Group", "Restaurant Group", "Apartments", "Property Management", "Bakery"]
_EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]
TAGS = ["VIP", "Member", "Do Not Service", "New Construction", "Warranty", "Slow Payer", "Referral"]

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
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'on_hold')),
    tags TEXT NOT NULL DEFAULT '',  -- comma-separated labels
    modified_at TEXT
);
CREATE TABLE technicians (id INTEGER PRIMARY KEY, name TEXT NOT NULL, active INTEGER NOT NULL);
CREATE TABLE pricebook_items (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('service', 'material', 'equipment')),
    category TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    member_price_cents INTEGER NOT NULL,
    cost_cents INTEGER NOT NULL,
    taxable INTEGER NOT NULL,
    active INTEGER NOT NULL
);
CREATE TABLE work_orders (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL,
    job_type TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'emergency')),
    summary TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_start_at TEXT,
    scheduled_end_at TEXT,
    technician_id INTEGER,
    total_cents INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    location_id INTEGER,
    arrival_window TEXT
);
CREATE INDEX work_orders_customer ON work_orders (customer_id);
CREATE INDEX work_orders_status ON work_orders (status);
CREATE TABLE work_order_history (
    id INTEGER PRIMARY KEY,
    work_order_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX work_order_history_wo ON work_order_history (work_order_id);
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


def _tenant(tenant: str) -> Tenant:
    try:
        return TENANTS[tenant]
    except KeyError:
        raise ValueError(f"unknown sandbox tenant {tenant!r}; expected one of {', '.join(TENANTS)}") from None


def generate_customers(seed: int = DEFAULT_SEED, size: str = "default", tenant: str = PRIMARY) -> list[Customer]:
    """The customer list for (seed, size, tenant): the same arguments always give the same list."""
    profile = _tenant(tenant)
    count = size_count(size) // profile.size_divisor
    fake = faker.Faker("en_US")
    salt = "" if tenant == PRIMARY else f"{tenant}-"  # the primary tenant keeps the streams it always had
    fake.seed_instance(seed if tenant == PRIMARY else f"{tenant}-{seed}")
    rng = random.Random(f"sera-customers-{salt}{seed}")
    created = _created_instants(rng, count)
    cities = [c for c, _ in profile.cities]
    weights = [w for _, w in profile.cities]
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
            phone = f"{rng.choice(profile.area_codes)}555{rng.randint(100, 199):04d}"
        if rng.random() < 0.85:
            city, state = rng.choices(cities, weights)[0], profile.state
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
    if count > 2 and tenant == PRIMARY:  # a fixed, well-known awkward row that tests and docs can point at
        customers[2] = _pinned(customers[2])
    return customers


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def generate_customer_extras(customers: list[Customer], seed: int, tenant: str = PRIMARY) -> list[tuple[str, str, int]]:
    """(tags, modified_at, id) per customer: tags are comma-separated; modified at or after creation."""
    rng = random.Random(f"sera-customer-extras-{tenant}-{seed}")
    extras = []
    for c in customers:
        tags = sorted(rng.sample(TAGS, k=rng.choices([0, 1, 2], [60, 30, 10])[0]), key=TAGS.index)
        created = _instant(c.created_at)
        span = max(1, int((_EPOCH_END - created).total_seconds()))
        modified = created + timedelta(seconds=rng.randrange(span)) if rng.random() < 0.7 else created
        extras.append((",".join(tags), _iso(modified), c.id))
    return extras


# Work-order lifecycle (docs/DOMAIN.md): the normalized statuses, their portal labels, and the legal moves.
WORK_ORDER_STATUSES = {
    "unscheduled": "Unscheduled", "scheduled": "Scheduled", "dispatched": "Dispatched",
    "in_progress": "In Progress", "paused": "Paused", "on_hold": "On Hold", "completed": "Completed",
    "canceled": "Canceled",
}  # fmt: skip
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "unscheduled": ("scheduled", "canceled"),
    "scheduled": ("dispatched", "canceled"),
    "dispatched": ("in_progress", "canceled"),
    "in_progress": ("completed", "paused", "on_hold", "canceled"),
    "paused": ("in_progress", "canceled"),
    "on_hold": ("in_progress", "canceled"),
    "completed": (),
    "canceled": (),
}
_LIFELINE = ["unscheduled", "scheduled", "dispatched", "in_progress", "completed"]
JOB_TYPES = ["AC Tune-Up", "Furnace Repair", "Water Heater", "Drain Cleaning", "Leak Repair", "Install Estimate"]
_SUMMARIES = {
    "AC Tune-Up": "Annual cooling maintenance", "Furnace Repair": "No heat, pilot will not stay lit",
    "Water Heater": "Water heater leaking at the base", "Drain Cleaning": "Kitchen drain backs up",
    "Leak Repair": "Slab leak suspected, high water bill", "Install Estimate": "Quote a new 3-ton system",
}  # fmt: skip
_OFFICE_STAFF = ["Dana Demo", "Dina Dispatch", "Casey Service"]


def generate_technicians(tenant: str = PRIMARY) -> list[tuple[int, str, int]]:
    return [(i + 1, name, 1) for i, name in enumerate(_tenant(tenant).technicians)]


def generate_work_orders(
    customers: list[Customer], seed: int, tenant: str = PRIMARY
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Work orders (about 1.5 per customer) and their status history, as rows for the two tables."""
    rng = random.Random(f"sera-work-orders-{tenant}-{seed}")
    techs = generate_technicians(tenant)
    orders: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    recent_start = _EPOCH_END - timedelta(days=30)
    for c in customers:
        for _ in range(rng.choices([0, 1, 2, 3], [15, 35, 35, 15])[0]):
            created_c = max(_instant(c.created_at), _EPOCH_START)
            recent = rng.random() < 0.2
            low = max(created_c, recent_start) if recent else created_c
            span = max(3600, int((_EPOCH_END - low).total_seconds()))
            created = low + timedelta(seconds=rng.randrange(span))
            job_type = rng.choice(JOB_TYPES)
            if recent:
                status = rng.choice(["unscheduled", "scheduled", "dispatched", "in_progress", "paused", "on_hold",
                                     "completed", "canceled"])  # fmt: skip
            else:
                status = rng.choices(["completed", "canceled"], [92, 8])[0]
            start = (created + timedelta(days=rng.randint(0, 6))).replace(minute=0, second=0)
            start = start.replace(hour=14 + rng.randrange(0, 8, 2))  # 8 AM to 2 PM Central, in UTC
            end = start + timedelta(hours=2)
            tech = rng.choice(techs)[0]
            path = _status_path(status, rng)
            at = created
            wo_id = FIRST_WORK_ORDER_ID + len(orders)
            for step in path:
                by = (
                    rng.choice(_OFFICE_STAFF)
                    if step in ("unscheduled", "scheduled", "canceled")
                    else techs[tech - 1][1]
                )
                reason = "Customer canceled" if step == "canceled" else None
                history.append((len(history) + 1, wo_id, step, _iso(at), by, reason))
                at = min(at + timedelta(minutes=rng.randint(5, 600)), max(at, _EPOCH_END))
            scheduled = status != "unscheduled" and not (status == "canceled" and "scheduled" not in path)
            total = 0 if status in ("unscheduled", "canceled") else rng.randrange(8900, 950000, 100)
            orders.append((
                wo_id, f"WO-{wo_id - FIRST_WORK_ORDER_ID + 10001}", c.id, job_type,
                rng.choices(["low", "normal", "high", "emergency"], [15, 65, 15, 5])[0], _SUMMARIES[job_type],
                status, _iso(start) if scheduled else None, _iso(end) if scheduled else None,
                tech if scheduled else None, total, _iso(created), history[-1][3],
            ))  # fmt: skip
    return orders, history


def _status_path(status: str, rng: random.Random) -> list[str]:
    if status in _LIFELINE:
        return _LIFELINE[: _LIFELINE.index(status) + 1]
    if status in ("paused", "on_hold"):
        return [*_LIFELINE[:4], status]
    return [*_LIFELINE[: rng.randint(1, 4)], "canceled"]  # canceled


_PRICEBOOK = [
    ("Diagnostics", "service", ["Diagnostic Visit", "After-Hours Diagnostic", "Second Opinion Inspection"]),
    ("Cooling", "service", ["AC Tune-Up", "Refrigerant Recharge (per lb)", "Condenser Coil Cleaning",
                            "Capacitor Replacement", "Contactor Replacement"]),
    ("Heating", "service", ["Furnace Tune-Up", "Igniter Replacement", "Flame Sensor Cleaning", "Heat Exchanger Check"]),
    ("Plumbing", "service", ["Drain Cleaning", "Hydro-Jetting", "Faucet Replacement", "Toilet Rebuild",
                             "Slab Leak Detection", "Water Heater Flush"]),
    ("Parts", "material", ["1/2\" Copper Elbow", "PEX Crimp Ring (10)", "Condensate Pump", "Air Filter 16x25x1",
                           "Thermocouple", "Wax Ring"]),
    ("Equipment", "equipment", ["3-Ton Heat Pump", "80% Gas Furnace", "50-Gal Water Heater", "Tankless Water Heater",
                                "Smart Thermostat"]),
]  # fmt: skip


def generate_pricebook(seed: int, tenant: str = PRIMARY) -> list[tuple[Any, ...]]:
    rng = random.Random(f"sera-pricebook-{tenant}-{seed}")
    rows: list[tuple[Any, ...]] = []
    for category, kind, names in _PRICEBOOK:
        for name in names:
            low, high = {"service": (4900, 89900), "material": (300, 45000), "equipment": (89900, 1450000)}[kind]
            price = rng.randrange(low, high, 100) - 1 if kind != "material" else rng.randrange(low, high)
            rows.append((
                len(rows) + 1, f"{category[:3].upper()}-{100 + len(rows)}", name, kind, category, price,
                price * 85 // 100, price * rng.randint(30, 60) // 100, int(kind != "service"),
                int(rng.random() > 0.1),
            ))  # fmt: skip
    return rows


def write_database(path: Path, seed: int, size: str, customers: Iterable[Customer] | None = None,
                   tenant: str = PRIMARY) -> None:  # fmt: skip
    """Create a fresh database file at `path` holding the seed data of one tenant."""
    rows = list(customers) if customers is not None else generate_customers(seed, size, tenant)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        meta = {"seed": str(seed), "size": size, "data_version": str(DATA_VERSION), "faker": faker.VERSION,
                "tenant": tenant}  # fmt: skip
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", sorted(meta.items()))
        placeholders = ", ".join("?" for _ in COLUMNS)
        conn.executemany(
            f"INSERT INTO customers ({', '.join(COLUMNS)}) VALUES ({placeholders})", (astuple(c) for c in rows)
        )
        conn.executemany("UPDATE customers SET tags = ?, modified_at = ? WHERE id = ?",
                         generate_customer_extras(rows, seed, tenant))  # fmt: skip
        conn.executemany("INSERT INTO technicians VALUES (?, ?, ?)", generate_technicians(tenant))
        profile = _tenant(tenant)
        pricebook = generate_pricebook(seed, tenant)
        pricebook += ledger.generate_pricebook_extra(seed, tenant, len(pricebook) + 1)
        conn.executemany(f"INSERT INTO pricebook_items VALUES ({', '.join('?' * 10)})", pricebook)
        extras = ledger.Extras()
        extras.locations = ledger.generate_locations(rows, seed, tenant, [c for c, _ in profile.cities])
        extras.contacts, extras.methods = ledger.generate_contacts(rows, seed, tenant, profile.area_codes)
        extras.memberships = ledger.generate_memberships(rows, extras.locations, seed, tenant, _EPOCH_END.date())
        by_customer: dict[int, list[int]] = {}
        for loc in extras.locations:
            by_customer.setdefault(loc[1], []).append(loc[0])
        orders, history = generate_work_orders(rows, seed, tenant)
        loc_rng = random.Random(f"sera-work-order-locations-{tenant}-{seed}")
        orders = [(*o, loc_rng.choice(by_customer.get(o[2]) or [None]), None) for o in orders]
        quota = ledger.WORK_ORDER_QUOTAS.get(size, 0) // profile.size_divisor
        ledger.top_up_work_orders(
            orders, history, rows, by_customer, len(profile.technicians), quota, seed, tenant,
            list(WORK_ORDER_STATUSES), _status_path, _SUMMARIES, _OFFICE_STAFF, profile.technicians,
            _EPOCH_START, _EPOCH_END,
        )  # fmt: skip
        zone = ZoneInfo(profile.time_zone)
        orders = [(*o[:14], ledger.arrival_window(o[7], zone)) for o in orders]
        conn.executemany(f"INSERT INTO work_orders VALUES ({', '.join('?' * 15)})", orders)
        conn.executemany("INSERT INTO work_order_history VALUES (?, ?, ?, ?, ?, ?)", history)
        ledger.generate_billing(orders, history, pricebook, seed, tenant, zone, extras)
        conn.executescript(ledger.SCHEMA)
        for table, values in (
            ("service_locations", extras.locations), ("contacts", extras.contacts),
            ("contact_methods", extras.methods), ("membership_programs", [(*p, 1) for p in ledger.PROGRAMS]),
            ("customer_memberships", extras.memberships), ("line_items", extras.lines),
            ("technician_assignments", extras.assignments), ("invoices", extras.invoices),
            ("payments", extras.payments), ("estimates", extras.estimates), ("estimate_options", extras.options),
            ("estimate_lines", extras.option_lines),
        ):  # fmt: skip
            if values:
                conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values[0]))})", values)
        conn.commit()
    finally:
        conn.close()


def _fingerprint() -> str:
    """What the data depends on besides (seed, size): this generator's source and Faker's version. A
    snapshot built by other code is never reused, even if someone forgets to bump DATA_VERSION."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(Path(__file__).with_name("tenants.py").read_bytes())
    digest.update(Path(__file__).with_name("ledger.py").read_bytes())
    digest.update(faker.VERSION.encode())
    return digest.hexdigest()[:12]


def snapshot_path(seed: int = DEFAULT_SEED, size: str = "default", directory: Path | None = None,
                  tenant: str = PRIMARY) -> Path:  # fmt: skip
    """Where the snapshot for (seed, size, tenant) lives."""
    size_count(size)
    _tenant(tenant)
    directory = directory if directory is not None else cache_dir()
    return directory / f"sera-v{DATA_VERSION}-{tenant}-{size}-seed{seed}-{_fingerprint()}.sqlite3"


def ensure_snapshot(seed: int = DEFAULT_SEED, size: str = "default", directory: Path | None = None,
                    tenant: str = PRIMARY) -> Path:  # fmt: skip
    """The snapshot for (seed, size, tenant), built first if missing.

    Built into a temporary file and renamed into place, so a concurrent builder or reader never sees half a
    database; two processes racing both build, and the second rename replaces an identical file.
    """
    target = snapshot_path(seed, size, directory, tenant)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # sqlite3 wants to create the file itself
        write_database(tmp, seed, size, tenant=tenant)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    current = f"-{_fingerprint()}.sqlite3"
    for stale in target.parent.glob(f"sera-v*-{size}-seed{seed}-*.sqlite3"):
        # built by an older generator (of any tenant); a server already copying it keeps its open file
        if not (stale.name.startswith(f"sera-v{DATA_VERSION}-") and stale.name.endswith(current)):
            stale.unlink(missing_ok=True)
    return target
