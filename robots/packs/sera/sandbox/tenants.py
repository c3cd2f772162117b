"""The sandbox's tenants: each is a separate company with its own data, users, sessions and time zone.

A request picks its tenant by a `/t/{tenant}/...` path prefix or by the first label of its Host header
(`summit.localhost:8000`), the way the real portal's subdomains differ only in host (docs/CONTRACTS.md C1). URLs
without either serve the primary tenant, `acme`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tenant:
    slug: str
    name: str
    time_zone: str
    state: str
    cities: tuple[tuple[str, int], ...]  # (city, weight) of the service area
    area_codes: tuple[str, ...]
    size_divisor: int  # customers = SIZES[size] // size_divisor
    technicians: tuple[str, ...]


ACME = Tenant(
    slug="acme",
    name="Acme Heating & Plumbing",
    time_zone="America/Chicago",
    state="TX",
    cities=(
        ("Austin", 40),
        ("Round Rock", 10),
        ("Cedar Park", 8),
        ("Pflugerville", 7),
        ("Georgetown", 6),
        ("Leander", 5),
        ("San Marcos", 4),
        ("Kyle", 4),
        ("Buda", 3),
        ("Lakeway", 2),
        ("Bee Cave", 2),
        ("Manor", 2),
        ("Hutto", 2),
    ),  # fmt: skip
    area_codes=("512", "512", "512", "737"),
    size_divisor=1,
    technicians=("Marcus Reyes", "Tara Nguyen", "Luis Ortega", "Kim Patel", "Dwayne Brooks"),
)

# A second company in another time zone, with fewer customers whose ids overlap Acme's: a robot that
# mixes tenants up gets visibly wrong data instead of silently right-looking rows.
SUMMIT = Tenant(
    slug="summit",
    name="Summit Air & Plumbing",
    time_zone="America/Denver",
    state="CO",
    cities=(("Denver", 40), ("Aurora", 12), ("Lakewood", 10), ("Littleton", 6), ("Golden", 4), ("Parker", 4)),
    area_codes=("303", "720"),
    size_divisor=3,
    technicians=("Hank Olsen", "Priya Shah", "Mateo Ruiz"),
)

TENANTS: dict[str, Tenant] = {ACME.slug: ACME, SUMMIT.slug: SUMMIT}
PRIMARY = ACME.slug


def tenant_from_host(host: str | None) -> str | None:
    """`summit.localhost:8000` -> "summit"; None when the first label is not a tenant."""
    if not host:
        return None
    label = host.split(":", 1)[0].split(".", 1)[0].lower()
    return label if label in TENANTS and "." in host.split(":", 1)[0] else None
