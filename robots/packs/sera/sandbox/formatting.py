"""How the Sera portal displays values: money, phones, instants in the tenant's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .clock import parse_instant

TYPE_LABELS = {"residential": "Residential", "commercial": "Commercial"}
STATUS_LABELS = {"active": "Active", "inactive": "Inactive", "on_hold": "On Hold"}


def money(cents: int) -> str:
    """123450 -> "$1,234.50"; -4500 -> "-$45.00"."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{frac:02d}"


def phone(digits: str | None) -> str:
    if not digits:
        return ""
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def local_datetime(utc_text: str, zone: ZoneInfo) -> str:
    """Show a UTC instant in the tenant's zone: 2025-03-14T19:05:00Z -> 03/14/2025 2:05 PM."""
    local = parse_instant(utc_text).astimezone(zone)
    hour = local.hour % 12 or 12
    return f"{local:%m/%d/%Y} {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def long_date(value: datetime) -> str:
    """A date as the dispatch board heads it: Saturday, May 9, 2026."""
    return f"{value:%A}, {value:%B} {value.day}, {value.year}"
