"""The sandbox's tenants' accounts: fixed constants, so robots and tests can log in as any role.

Each tenant has its own users (the same username in two tenants is two accounts). Second factors: a TOTP
app, a code sent by SMS or e-mail (read back from the sandbox outbox), or none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .tenants import ACME, SUMMIT

TENANT = ACME.slug
TENANT_NAME = ACME.name
TIME_ZONE = ACME.time_zone

ROLES = ("admin", "dispatcher", "csr", "technician")
MFA_KINDS = ("totp", "sms", "email", "none")


@dataclass(frozen=True)
class User:
    username: str
    password: str
    totp_secret: str  # "" unless mfa == "totp"
    display_name: str
    role: str
    mfa: str = "totp"
    phone: str | None = None  # E.164, where SMS codes go
    email: str | None = None  # where e-mail codes go
    password_expired: bool = False
    tenant: str = TENANT
    sso: bool = False  # signs in through the identity provider (its password is the IdP's)
    # Signing in from a device the portal does not know needs a link e-mailed to the user opened on it (a person's
    # step); a remembered device skips it.
    confirm_new_device: bool = False


# The password holds every character that has a distinct raw, HTML, URL and JSON encoding (docs/CONTRACTS.md C4),
# so tests that grep artifacts for leaked secrets are meaningful.
DEMO = User(
    username="demo",
    password="Demo pass&<>\"'%+ 2026",
    totp_secret="JBSWY3DPEHPK3PXPSERADEMOACMETOTP",
    display_name="Dana Demo",
    role="admin",
    email="dana.demo@acme.example.com",
)

_ACME_USERS = (
    DEMO,
    User("dina", "Dispatch pass 2026!", "", "Dina Dispatch", "dispatcher", mfa="sms", phone="+15125550101"),
    User(
        "casey", "Service desk 2026!", "", "Casey Service", "csr", mfa="email", email="casey.service@acme.example.com"
    ),  # fmt: skip
    User("tom", "Truck 42 pass 2026!", "", "Tom Tech", "technician", mfa="none"),
    User("pat", "Old password 2025!", "", "Pat Expired", "csr", mfa="none", password_expired=True),
    User("sage", "Northwind SSO 2026!", "", "Sage Single", "dispatcher", mfa="none",
         email="sage@acme.example.com", sso=True),
    User("nora", "New laptop 2026!", "", "Nora Newdevice", "csr", mfa="none", email="nora@acme.example.com",
         confirm_new_device=True),
)
_SUMMIT_USERS = (
    User(
        "demo",
        "Summit demo 2026!",
        "KRUGKIDROVUWG2ZAMJZG653OEBTG6ZDY",
        "Sam Summit",
        "admin",
        tenant=SUMMIT.slug,
        email="sam.summit@summit.example.com",
    ),  # fmt: skip
    User(
        "hank", "Hank tech 2026!", "", "Hank Olsen", "technician", mfa="sms", phone="+13035550177", tenant=SUMMIT.slug
    ),  # fmt: skip
)

# tenant -> username -> user
TENANT_USERS: dict[str, dict[str, User]] = {
    ACME.slug: {u.username: u for u in _ACME_USERS},
    SUMMIT.slug: {u.username: u for u in _SUMMIT_USERS},
}
USERS: dict[str, User] = TENANT_USERS[TENANT]


def credentials() -> dict[str, str]:
    """The demo account, as a robot would be configured with it."""
    return {
        "tenant": TENANT,
        "username": DEMO.username,
        "password": DEMO.password,
        "totp_secret": DEMO.totp_secret,
    }


def users() -> list[dict[str, object]]:
    """Every seeded account of every tenant: tenant, username, password, role, mfa (totp|sms|email|none),
    totp_secret, phone, email, password_expired, display_name."""
    return [asdict(u) for by_name in TENANT_USERS.values() for u in by_name.values()]
