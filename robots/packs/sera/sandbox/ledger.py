"""Seed data beyond customers: service locations, contacts, the full pricebook, the work-order backlog with
line items and technician assignments, estimates, invoices, payments and memberships (docs/DOMAIN.md).

Like data.py, everything is a function of (seed, size, tenant), and each kind of record draws from its own
random stream, so adding or changing one kind never changes another (nor acme's customers). Messy on
purpose: accents, thousands separators, missing fields, commercial customers with dozens of locations.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import faker

# Work orders per status at each size (per tenant, divided by the tenant's size_divisor): the backlog tops
# up what the per-customer history leaves short, so every lifecycle state has at least this many.
WORK_ORDER_QUOTAS: dict[str, int] = {"small": 12, "default": 10_000}
TAX_RATE_BP = {"acme": 825, "summit": 881}  # sales tax in basis points, on taxable lines
FIRST_LOCATION_ID = 7001
FIRST_INVOICE_ID = 300001
FIRST_ESTIMATE_ID = 400001

SCHEMA = """
CREATE TABLE service_locations (
    id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, name TEXT NOT NULL, street TEXT NOT NULL, unit TEXT,
    city TEXT NOT NULL, state TEXT NOT NULL, zip TEXT, country TEXT NOT NULL, access_notes TEXT,
    is_primary INTEGER NOT NULL
);
CREATE INDEX service_locations_customer ON service_locations (customer_id);
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, name TEXT NOT NULL, role TEXT, is_primary INTEGER NOT NULL
);
CREATE INDEX contacts_customer ON contacts (customer_id);
CREATE TABLE contact_methods (
    id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('email', 'phone', 'mobile')), value TEXT NOT NULL, opt_in INTEGER NOT NULL
);
CREATE INDEX contact_methods_contact ON contact_methods (contact_id);
CREATE TABLE membership_programs (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, cadence TEXT NOT NULL, price_cents INTEGER NOT NULL,
    included_visits INTEGER NOT NULL, discount_percent INTEGER NOT NULL, tasks TEXT NOT NULL, active INTEGER NOT NULL
);
CREATE TABLE customer_memberships (
    id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, customer_id INTEGER NOT NULL, program_id INTEGER NOT NULL,
    location_id INTEGER, status TEXT NOT NULL CHECK (status IN ('active', 'pending', 'expired', 'canceled')),
    start_date TEXT NOT NULL, end_date TEXT, next_billing_date TEXT,
    renewal_type TEXT NOT NULL CHECK (renewal_type IN ('auto_renew', 'expires')),
    cadence TEXT NOT NULL CHECK (cadence IN ('monthly', 'quarterly', 'semi_annual', 'annual')),
    interval_count INTEGER NOT NULL, price_cents INTEGER NOT NULL, autopay INTEGER NOT NULL,
    collection_method TEXT NOT NULL, payment_method_ref TEXT, visits_used INTEGER NOT NULL,
    visits_included INTEGER NOT NULL, created_at TEXT NOT NULL, renewed_from INTEGER
);
CREATE INDEX customer_memberships_customer ON customer_memberships (customer_id);
CREATE TABLE line_items (
    id INTEGER PRIMARY KEY, work_order_id INTEGER NOT NULL, pricebook_item_id INTEGER, description TEXT NOT NULL,
    quantity REAL NOT NULL, unit_price_cents INTEGER NOT NULL, total_cents INTEGER NOT NULL, taxable INTEGER NOT NULL
);
CREATE INDEX line_items_wo ON line_items (work_order_id);
CREATE TABLE technician_assignments (
    id INTEGER PRIMARY KEY, work_order_id INTEGER NOT NULL, technician_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('lead', 'helper')), assigned_at TEXT NOT NULL, accepted_at TEXT,
    dispatched_at TEXT, arrived_at TEXT, completed_at TEXT
);
CREATE INDEX technician_assignments_wo ON technician_assignments (work_order_id);
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, work_order_id INTEGER NOT NULL, customer_id INTEGER NOT NULL,
    subtotal_cents INTEGER NOT NULL, tax_cents INTEGER NOT NULL, total_cents INTEGER NOT NULL,
    balance_cents INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('pending', 'finalized', 'voided')),
    payment_status TEXT NOT NULL CHECK (payment_status IN ('unpaid', 'partial', 'paid', 'refunded')),
    issued_date TEXT NOT NULL, due_date TEXT, voided_at TEXT, void_reason TEXT
);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE INDEX invoices_wo ON invoices (work_order_id);
CREATE TABLE payments (
    id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, invoice_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    method TEXT NOT NULL CHECK (method IN ('card', 'ach', 'check', 'cash', 'financing')),
    amount_cents INTEGER NOT NULL, status TEXT NOT NULL, paid_at TEXT NOT NULL, payment_method_ref TEXT, memo TEXT
);
CREATE INDEX payments_invoice ON payments (invoice_id);
CREATE TABLE estimates (
    id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, work_order_id INTEGER NOT NULL, customer_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'approved', 'declined', 'expired')),
    created_at TEXT NOT NULL, summary TEXT
);
CREATE INDEX estimates_wo ON estimates (work_order_id);
CREATE TABLE estimate_options (
    id INTEGER PRIMARY KEY, estimate_id INTEGER NOT NULL, name TEXT NOT NULL, total_cents INTEGER NOT NULL
);
CREATE INDEX estimate_options_estimate ON estimate_options (estimate_id);
CREATE TABLE estimate_lines (
    id INTEGER PRIMARY KEY, option_id INTEGER NOT NULL, pricebook_item_id INTEGER, description TEXT NOT NULL,
    quantity REAL NOT NULL, unit_price_cents INTEGER NOT NULL, total_cents INTEGER NOT NULL
);
CREATE INDEX estimate_lines_option ON estimate_lines (option_id);
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY, work_order_id INTEGER NOT NULL, filename TEXT NOT NULL, content_type TEXT NOT NULL,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, data BLOB NOT NULL, uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL
);
CREATE INDEX attachments_wo ON attachments (work_order_id);
CREATE TABLE work_order_references (
    work_order_id INTEGER PRIMARY KEY, reference TEXT NOT NULL
);
CREATE INDEX work_order_references_reference ON work_order_references (reference);
"""


def iso(value: datetime) -> str:
    v = value if value.tzinfo is UTC else value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)  # "…Z" -> an aware UTC datetime (Python 3.11+)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# -- pricebook ------------------------------------------------------------------------------------------

_SERVICE_VERBS = ["Replace", "Install", "Repair", "Inspect", "Clean", "Test", "Adjust", "Flush", "Seal", "Rebuild"]
_SERVICE_THINGS = {
    "Cooling": ["Blower Motor", "Condenser Fan Motor", "TXV Valve", "Evaporator Coil", "Line Set", "Float Switch",
                "Condensate Line", "Compressor Hard-Start Kit"],
    "Heating": ["Gas Valve", "Inducer Motor", "Pressure Switch", "Limit Switch", "Control Board", "Heat Strip",
                "Flue Pipe", "Pilot Assembly"],
    "Plumbing": ["Hose Bib", "Shut-Off Valve", "P-Trap", "Garbage Disposal", "Sump Pump", "PRV Valve",
                 "Expansion Tank", "Main Line Cleanout"],
    "Electrical": ["GFCI Outlet", "Breaker (20A)", "Surge Protector", "Whole-Home Generator Transfer Switch",
                   "Ceiling Fan", "Panel Label Set"],
    "Indoor Air Quality": ["UV Light", "Media Filter Cabinet", "Humidifier Pad", "Duct Sealing (per run)",
                           "ERV Core", "Dehumidifier"],
}  # fmt: skip
_MATERIALS = ["Copper Elbow", "Copper Tee", "PVC Coupling", "PEX Adapter", "Brass Ball Valve", "Flex Connector",
              "SharkBite Coupling", "Galvanized Nipple", "CPVC Cap", "Dielectric Union"]  # fmt: skip
_MATERIAL_SIZES = ['1/2"', '3/4"', '1"', '1-1/4"', '1-1/2"', '2"']
_BRANDS = ["Trane", "Carrier", "Rheem", "Lennox", "Goodman", "Bosch", "Daikin", "Navien", "A.O. Smith", "Rinnai"]
_EQUIPMENT = ["Heat Pump", "Air Conditioner", "Gas Furnace", "Air Handler", "Tankless Water Heater",
              "Ductless Mini-Split", "Water Softener", "Boiler"]  # fmt: skip
_ODD_NAMES = ["Crème Brûlée Torch Regulator (café kitchens)", "Señor Flush™ Toilet Kit", "Thermostat – Wi‑Fi, Nest®",
              "Filtre à air 20x25x4 (Québec stock)", "Ñandú Drain Auger, 50 ft"]  # fmt: skip


def generate_pricebook_extra(seed: int, tenant: str, start_id: int, count: int = 320) -> list[tuple[Any, ...]]:
    """More pricebook items after the classic ones (which keep their ids and prices)."""
    rng = random.Random(f"sera-pricebook-extra-{tenant}-{seed}")
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    while len(rows) < count:
        roll = rng.random()
        if roll < 0.45:
            category = rng.choice(list(_SERVICE_THINGS))
            kind, name = "service", f"{rng.choice(_SERVICE_VERBS)} {rng.choice(_SERVICE_THINGS[category])}"
            price = rng.randrange(4900, 189900, 100) - 1
        elif roll < 0.8:
            category, kind = "Parts", "material"
            name = f"{rng.choice(_MATERIAL_SIZES)} {rng.choice(_MATERIALS)}"
            if rng.random() < 0.2:
                name += f" ({rng.choice([5, 10, 25])}-pack)"
            price = rng.randrange(150, 25000)
        elif roll < 0.98:
            category, kind = "Equipment", "equipment"
            equipment = rng.choice(_EQUIPMENT)
            size = (
                f"{rng.choice([1.5, 2, 2.5, 3, 3.5, 4, 5])}-Ton " if "Heat" in equipment or "Air" in equipment else ""
            )
            name = f"{rng.choice(_BRANDS)} {size}{equipment} ({rng.choice([14, 15, 16, 17, 18, 20])} SEER2)"
            price = rng.randrange(149900, 2499900, 100) - 1  # $1,498.99 .. $24,998.99
        else:
            category, kind = "Specials", "material"
            name = rng.choice(_ODD_NAMES)
            price = rng.randrange(999, 49999)
        if name in seen:
            continue
        seen.add(name)
        item_id = start_id + len(rows)
        member = price * rng.choice([80, 85, 90, 100]) // 100
        rows.append((item_id, f"{category[:3].upper()}-{99 + item_id}", name, kind, category, price, member,
                     price * rng.randint(25, 65) // 100, int(kind != "service"), int(rng.random() > 0.08)))  # fmt: skip
    return rows


# -- locations and contacts -----------------------------------------------------------------------------

_ACCESS_NOTES = [
    "Gate code #4821",
    "Dog in backyard — call first",
    "Use side entrance",
    "Key in lockbox 0917",
    "Park on street, HOA tows",
    "Mechanical room on roof; ask front desk for badge",
    "Alarm code at office",
]
_SITE_NAMES = ["Main Office", "Warehouse", "Store", "Clinic", "Building", "Unit", "Suite", "Kitchen", "Plant"]
_ROLES_COMMERCIAL = ["Property Manager", "Facilities", "Accounts Payable", "Owner", "Tenant", "Site Supervisor"]
_ACCENTED_STREETS = ["Calle Peña", "Avenida José Martí", "Rue Élise", "Château Ct", "Muñoz Blvd", "Björk Ln"]


@dataclass
class Extras:
    """Everything generated beyond customers, as rows ready for their tables."""

    locations: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    methods: list[tuple[Any, ...]] = field(default_factory=list)
    programs: list[tuple[Any, ...]] = field(default_factory=list)
    memberships: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    assignments: list[tuple[Any, ...]] = field(default_factory=list)
    invoices: list[tuple[Any, ...]] = field(default_factory=list)
    payments: list[tuple[Any, ...]] = field(default_factory=list)
    estimates: list[tuple[Any, ...]] = field(default_factory=list)
    options: list[tuple[Any, ...]] = field(default_factory=list)
    option_lines: list[tuple[Any, ...]] = field(default_factory=list)


def generate_locations(customers: Sequence[Any], seed: int, tenant: str,
                       cities: Sequence[str]) -> list[tuple[Any, ...]]:  # fmt: skip
    """Each customer's service locations; the first (primary) is in the customer's city."""
    rng = random.Random(f"sera-locations-{tenant}-{seed}")
    fake = faker.Faker("en_US")
    fake.seed_instance(f"locations-{tenant}-{seed}")
    rows: list[tuple[Any, ...]] = []
    for c in customers:
        if c.type == "commercial":
            count = rng.randint(20, 60) if rng.random() < 0.1 else rng.randint(1, 8)
        else:
            count = 2 if rng.random() < 0.1 else 1
        for n in range(count):
            city, state = (c.city, c.state) if n == 0 else (rng.choice(cities), c.state)
            street = (
                fake.street_address()
                if rng.random() > 0.03
                else f"{rng.randint(100, 9999)} {rng.choice(_ACCENTED_STREETS)}"
            )
            unit = None
            if rng.random() < 0.15:
                unit = rng.choice(["Apt ", "Unit ", "Suite ", "#"]) + str(rng.randint(1, 420))
            if c.type == "commercial":
                name = "Headquarters" if n == 0 else f"{rng.choice(_SITE_NAMES)} {n + 1}"
            else:
                name = "Home" if n == 0 else "Rental"
            zipcode = fake.postcode() if rng.random() > 0.04 else None  # a few have no ZIP on file
            notes = rng.choice(_ACCESS_NOTES) if rng.random() < 0.2 else None
            rows.append((FIRST_LOCATION_ID + len(rows), c.id, name, street, unit, city, state, zipcode, "US", notes,
                         int(n == 0)))  # fmt: skip
    return rows


def generate_contacts(customers: Sequence[Any], seed: int, tenant: str, area_codes: Sequence[str]
                      ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:  # fmt: skip
    rng = random.Random(f"sera-contacts-{tenant}-{seed}")
    fake = faker.Faker("en_US")
    fake.seed_instance(f"contacts-{tenant}-{seed}")
    contacts: list[tuple[Any, ...]] = []
    methods: list[tuple[Any, ...]] = []

    def method(contact_id: int, kind: str, value: str) -> None:
        methods.append((len(methods) + 1, contact_id, kind, value, int(rng.random() < 0.7)))

    def phone() -> str:
        return f"{rng.choice(area_codes)}555{rng.randint(200, 999):04d}"

    for c in customers:
        people = [(c.name, "Primary" if c.type == "residential" else "Owner")]
        if c.type == "commercial":
            people = [(fake.name(), rng.choice(_ROLES_COMMERCIAL)) for _ in range(rng.randint(1, 4))]
        elif rng.random() < 0.25:
            people.append((f"{fake.first_name()} {c.name.split(' ')[-1]}", "Spouse"))
        for index, (name, role) in enumerate(people):
            cid = len(contacts) + 1
            contacts.append((cid, c.id, name, role if rng.random() > 0.05 else None, int(index == 0)))
            if index == 0 and c.email:
                method(cid, "email", c.email)
            elif rng.random() < 0.7:
                local = ".".join(_ascii(p).lower() for p in name.split(" ")[:2] if p)
                method(cid, "email", f"{local}@example.com")
            if index == 0 and c.phone:
                method(cid, "phone", c.phone)
            elif rng.random() < 0.4:
                method(cid, "phone", phone())
            if rng.random() < 0.6:
                method(cid, "mobile", phone())
    return contacts, methods


# -- memberships ----------------------------------------------------------------------------------------

PROGRAMS = [
    (1, "Comfort Club", "annual", 18900, 2, 15, "Spring AC tune-up;Fall furnace tune-up"),
    (2, "Comfort Club (Monthly)", "monthly", 1795, 2, 15, "Spring AC tune-up;Fall furnace tune-up"),
    (3, "Plumbing Protection Plan", "quarterly", 4500, 1, 10, "Whole-home plumbing inspection"),
    (4, "Total Home Plan — Élite", "monthly", 3495, 3, 20,
     "Spring AC tune-up;Fall furnace tune-up;Water heater flush"),
    (5, "Commercial PM Agreement", "semi_annual", 125000, 4, 10,
     "Q1 rooftop PM;Q2 rooftop PM;Q3 rooftop PM;Q4 rooftop PM"),
]  # fmt: skip
CADENCE_MONTHS = {"monthly": 1, "quarterly": 3, "semi_annual": 6, "annual": 12}


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
            31][month - 1]  # fmt: skip
    return date(year, month, min(day.day, last))


def payment_token(rng: random.Random) -> str:
    return "pm_" + "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(14))


def generate_memberships(customers: Sequence[Any], locations: Sequence[tuple[Any, ...]], seed: int, tenant: str,
                         today: date) -> list[tuple[Any, ...]]:  # fmt: skip
    rng = random.Random(f"sera-memberships-{tenant}-{seed}")
    primary = {row[1]: row[0] for row in reversed(locations)}  # customer -> first location id
    rows: list[tuple[Any, ...]] = []
    for c in customers:
        if rng.random() > 0.3:
            continue
        program = PROGRAMS[4] if c.type == "commercial" and rng.random() < 0.6 else rng.choice(PROGRAMS[:4])
        status = rng.choices(["active", "pending", "expired", "canceled"], [65, 5, 20, 10])[0]
        created = instant(c.created_at)
        start = (created + timedelta(days=rng.randint(0, 400))).date()
        if status in ("active", "pending"):
            start = today - timedelta(days=rng.randint(0, 330)) if status == "active" else today + timedelta(days=3)
        end = add_months(start, 12)
        if status == "expired" and end >= today:
            start, end = add_months(today, -18), add_months(today, -6)
        cadence = program[2] if rng.random() > 0.15 else rng.choice(list(CADENCE_MONTHS))
        interval = 1 if rng.random() > 0.05 else 2
        months = CADENCE_MONTHS[cadence] * interval
        yearly = program[3] * (12 // CADENCE_MONTHS[program[2]])
        price = yearly * months // 12
        autopay = rng.random() < 0.7
        collection = rng.choice(["card_on_file", "ach_on_file"]) if autopay else "invoice"
        ref = payment_token(rng) if autopay else (None if rng.random() < 0.7 else f"•••• {rng.randint(1000, 9999)}")
        next_billing = None
        if status == "active":
            nb = start
            while nb <= today:
                nb = add_months(nb, months)
            next_billing = nb.isoformat()
        used = rng.randint(0, program[4]) if status != "pending" else 0
        renewal = "auto_renew" if rng.random() < 0.75 else "expires"
        mid = 1 + len(rows)
        rows.append((mid, f"M-{20000 + mid}", c.id, program[0], primary.get(c.id), status, start.isoformat(),
                     end.isoformat() if status != "canceled" or rng.random() < 0.5 else None, next_billing, renewal,
                     cadence, interval, price, int(autopay), collection, ref, used, program[4],
                     iso(datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=15)), None))  # fmt: skip
    return rows


# -- work orders: line items, assignments, invoices, payments, estimates --------------------------------


def _lines_for_total(rng: random.Random, wo_id: int, total: int, items: Sequence[tuple[Any, ...]],
                     start_id: int) -> list[tuple[Any, ...]]:  # fmt: skip
    """Line items whose totals add up to `total`: pricebook items that fit, then labor for the rest."""
    lines: list[tuple[Any, ...]] = []
    remaining = total
    for _ in range(rng.randint(1, 3)):
        item = rng.choice(items)
        qty = rng.choice([1, 1, 1, 2, 3]) if item[3] == "material" else 1
        if item[5] * qty > remaining:
            continue
        remaining -= item[5] * qty
        lines.append((start_id + len(lines), wo_id, item[0], item[2], float(qty), item[5], item[5] * qty, item[8]))
    if remaining > 0:
        hours = rng.choice([1.0, 1.5, 2.0, 2.5, 3.0])
        unit = round(remaining / hours)
        if round(unit * hours) != remaining:
            hours, unit = 1.0, remaining
        lines.append((start_id + len(lines), wo_id, None, "Labor", hours, unit, remaining, 0))
    return lines


def tax_for(lines: Sequence[tuple[Any, ...]], tenant: str, total_col: int = 6, taxable_col: int = 7) -> int:
    taxable = sum(line[total_col] for line in lines if line[taxable_col])
    return (taxable * TAX_RATE_BP.get(tenant, 825) + 5000) // 10000


_CARD_BRANDS = ["Visa", "Mastercard", "Amex", "Discover"]


def _method_ref(rng: random.Random, method: str) -> str | None:
    if method == "card":
        return (
            payment_token(rng) if rng.random() < 0.5 else f"{rng.choice(_CARD_BRANDS)} •••• {rng.randint(1000, 9999)}"
        )
    if method == "ach":
        return f"ACH •••• {rng.randint(1000, 9999)}"
    if method == "check":
        return f"Check #{rng.randint(1001, 9999)}"
    if method == "financing":
        return f"GreenSky APP-{rng.randint(100000, 999999)}"
    return None  # cash: nothing on file


def generate_billing(orders: Sequence[tuple[Any, ...]], history: Sequence[tuple[Any, ...]],
                     items: Sequence[tuple[Any, ...]], seed: int, tenant: str, zone: ZoneInfo,
                     extras: Extras) -> None:  # fmt: skip
    """Line items, technician assignments, invoices, payments and estimates for `orders`."""
    rng = random.Random(f"sera-billing-{tenant}-{seed}")
    active_items = [i for i in items if i[9] and i[3] != "equipment"]
    equipment = [i for i in items if i[9] and i[3] == "equipment"]
    by_wo: dict[int, dict[str, str]] = {}
    for h in history:
        by_wo.setdefault(h[1], {})[h[2]] = h[3]
    for wo in orders:
        wo_id, status, tech, total, created = wo[0], wo[6], wo[9], wo[10], wo[11]
        steps = by_wo.get(wo_id, {})
        lines = _lines_for_total(rng, wo_id, total, active_items, len(extras.lines) + 1) if total > 0 else []
        extras.lines.extend(lines)
        if tech is not None:
            assigned = steps.get("scheduled", created)
            dispatched = steps.get("dispatched")
            accepted = None
            if dispatched:
                accepted = iso(min(instant(dispatched), instant(assigned) + timedelta(minutes=rng.randint(3, 90))))
            crew = [(tech, "lead")]
            if rng.random() < 0.1:
                crew.append((tech % 5 + 1 if tech % 5 + 1 != tech else 1, "helper"))
            for person, role in crew:
                extras.assignments.append((len(extras.assignments) + 1, wo_id, person, role, assigned, accepted,
                                           dispatched, steps.get("in_progress"), steps.get("completed")))  # fmt: skip
        if status == "completed" and lines:
            _invoice(rng, wo, lines, steps.get("completed", created), tenant, zone, extras)
        if wo[3] == "Install Estimate" and rng.random() < 0.25 or rng.random() < 0.02:
            _estimate(rng, wo, active_items, equipment, extras)


def _invoice(rng: random.Random, wo: tuple[Any, ...], lines: Sequence[tuple[Any, ...]], completed: str, tenant: str,
             zone: ZoneInfo, extras: Extras) -> None:  # fmt: skip
    subtotal = sum(line[6] for line in lines)
    tax = tax_for(lines, tenant)
    total = subtotal + tax
    issued = instant(completed).astimezone(zone).date()
    status = rng.choices(["finalized", "pending", "voided"], [90, 7, 3])[0]
    pay = "unpaid"
    if status == "finalized":
        pay = rng.choices(["paid", "partial", "unpaid", "refunded"], [80, 5, 12, 3])[0]
    inv_id = FIRST_INVOICE_ID + len(extras.invoices)
    paid_at = instant(completed)
    balance = total
    amounts: list[tuple[str, int]] = []
    if pay in ("paid", "refunded"):
        if rng.random() < 0.1 and total > 200:
            first = total // 2
            amounts = [("payment", first), ("payment", total - first)]
        else:
            amounts = [("payment", total)]
        balance = 0
    elif pay == "partial":
        first = max(100, total * rng.randint(20, 80) // 100)
        amounts = [("payment", first)]
        balance = total - first
    if pay == "refunded":
        amounts.append(("refund", total))
    method = rng.choices(["card", "ach", "check", "cash", "financing"], [55, 10, 20, 5, 10])[0]
    ref = _method_ref(rng, method)
    for kind, amount in amounts:
        paid_at += timedelta(minutes=rng.randint(5, 60 * 24 * 20))
        pid = len(extras.payments) + 1
        memo = "Customer not satisfied — full refund" if kind == "refund" else None
        extras.payments.append((pid, f"P-{70000 + pid}", inv_id, kind, method, amount,
                                "succeeded" if rng.random() > 0.01 else "failed", iso(paid_at), ref, memo))  # fmt: skip
    voided_at = iso(instant(completed) + timedelta(days=rng.randint(1, 9))) if status == "voided" else None
    extras.invoices.append((inv_id, f"INV-{inv_id - FIRST_INVOICE_ID + 20001}", wo[0], wo[2], subtotal, tax, total,
                            balance if status != "voided" else 0, status, pay, issued.isoformat(),
                            (issued + timedelta(days=30)).isoformat() if rng.random() > 0.05 else None, voided_at,
                            "Duplicate invoice" if voided_at else None))  # fmt: skip


def _estimate(rng: random.Random, wo: tuple[Any, ...], items: Sequence[tuple[Any, ...]],
              equipment: Sequence[tuple[Any, ...]], extras: Extras) -> None:  # fmt: skip
    est_id = FIRST_ESTIMATE_ID + len(extras.estimates)
    status = rng.choices(["draft", "sent", "approved", "declined", "expired"], [10, 30, 30, 15, 15])[0]
    extras.estimates.append((est_id, f"EST-{est_id - FIRST_ESTIMATE_ID + 5001}", wo[0], wo[2], status, wo[11],
                             wo[5]))  # fmt: skip
    names = ["Good", "Better", "Best"][: rng.randint(1, 3)]
    for index, name in enumerate(names):
        option_id = len(extras.options) + 1
        picks = [rng.choice(equipment)] if equipment and wo[3] == "Install Estimate" else []
        picks += [rng.choice(items) for _ in range(index + 1)]
        total = 0
        for item in picks:
            qty = 1.0
            total += item[5]
            extras.option_lines.append((len(extras.option_lines) + 1, option_id, item[0], item[2], qty, item[5],
                                        item[5]))  # fmt: skip
        extras.options.append((option_id, est_id, name, total))


# -- the backlog: enough work orders in every state -----------------------------------------------------


def top_up_work_orders(orders: list[tuple[Any, ...]], history: list[tuple[Any, ...]], customers: Sequence[Any],
                       locations_by_customer: dict[int, list[int]], technicians: int, quota: int, seed: int,
                       tenant: str, statuses: Sequence[str], path: Any, summaries: dict[str, str],
                       office: Sequence[str], tech_names: Sequence[str], start: datetime,
                       end: datetime) -> None:  # fmt: skip
    """Append work orders (and their history) until each status in `statuses` has `quota`."""
    rng = random.Random(f"sera-work-order-backlog-{tenant}-{seed}")
    have = {s: 0 for s in statuses}
    for wo in orders:
        have[wo[6]] += 1
    wanted = [s for s in statuses for _ in range(max(0, quota - have[s]))]
    rng.shuffle(wanted)
    job_types = list(summaries)
    span_old = int((end - start).total_seconds())
    for status in wanted:
        c = customers[rng.randrange(len(customers))]
        if status in ("completed", "canceled"):
            created = start + timedelta(seconds=rng.randrange(span_old))
            created = max(created, instant(c.created_at))
        else:
            created = end - timedelta(seconds=rng.randrange(60 * 86400))
        job_type = rng.choice(job_types)
        sched = (created + timedelta(days=rng.randint(0, 14))).replace(minute=0, second=0)
        sched = sched.replace(hour=14 + rng.randrange(0, 8, 2))
        tech = rng.randrange(technicians) + 1
        steps = path(status, rng)
        wo_id = orders[-1][0] + 1 if orders else 50001
        at = created
        for step in steps:
            by = rng.choice(office) if step in ("unscheduled", "scheduled", "canceled") else tech_names[tech - 1]
            history.append((len(history) + 1, wo_id, step, iso(at), by,
                            "Customer canceled" if step == "canceled" else None))  # fmt: skip
            at = at + timedelta(minutes=rng.randint(5, 600))
        scheduled = status != "unscheduled" and not (status == "canceled" and "scheduled" not in steps)
        total = 0 if status in ("unscheduled", "canceled") else rng.randrange(8900, 950000, 100)
        locs: list[int | None] = [*locations_by_customer.get(c.id, [])] or [None]
        orders.append((
            wo_id, f"WO-{wo_id - 50001 + 10001}", c.id, job_type,
            rng.choices(["low", "normal", "high", "emergency"], [15, 65, 15, 5])[0], summaries[job_type], status,
            iso(sched) if scheduled else None, iso(sched + timedelta(hours=2)) if scheduled else None,
            tech if scheduled else None, total, iso(created), history[-1][3], rng.choice(locs), None,
        ))  # fmt: skip


def arrival_window(start_utc: str | None, zone: ZoneInfo) -> str | None:
    if not start_utc:
        return None
    local = instant(start_utc).astimezone(zone)

    def label(hour: int) -> str:
        return f"{hour % 12 or 12} {'AM' if hour < 12 else 'PM'}"

    return f"{label(local.hour)} – {label((local.hour + 2) % 24)}"
