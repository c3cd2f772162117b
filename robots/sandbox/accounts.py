"""The sandbox tenant and its demo account: fixed constants, so robots and tests can log in."""

from __future__ import annotations

from dataclasses import dataclass

TENANT = "acme"
TENANT_NAME = "Acme Heating & Plumbing"
TIME_ZONE = "America/Chicago"


@dataclass(frozen=True)
class User:
    username: str
    password: str
    totp_secret: str
    display_name: str
    role: str


# The password holds every character that has a distinct raw, HTML, URL and JSON encoding (CONTRACTS C4),
# so tests that grep artifacts for leaked secrets are meaningful.
DEMO = User(
    username="demo",
    password="Demo pass&<>\"'%+ 2026",
    totp_secret="JBSWY3DPEHPK3PXPSERADEMOACMETOTP",
    display_name="Dana Demo",
    role="admin",
)

USERS: dict[str, User] = {DEMO.username: DEMO}


def credentials() -> dict[str, str]:
    """The demo account, as a robot would be configured with it."""
    return {
        "tenant": TENANT,
        "username": DEMO.username,
        "password": DEMO.password,
        "totp_secret": DEMO.totp_secret,
    }
