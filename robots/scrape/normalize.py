"""Normalizers for what portals display: money, dates, instants, phones, e-mails and enum labels.

Each takes the cell's text (whitespace already collapsed) and returns the normalized value, or None for
an empty cell; a value it cannot read raises ValueError with the text it was given."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

_MONEY = re.compile(r"^(?P<open>\()?\s*(?P<neg1>-)?\s*(?P<cur>[$€£])?\s*(?P<neg2>-)?"
                    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*(?P<close>\))?$")


# The usual display ('$1,234.50', '-$45.00'), read without Decimal: most money cells of a list page.
_MONEY_FAST = re.compile(r"(-?)\$(\d{1,3}(?:,\d{3})*|\d+)\.(\d\d)")


def money_cents(text: str | None) -> int | None:
    """'$1,234.50' -> 123450; '-$45.00' and '($45.00)' -> -4500."""
    if not text:
        return None
    fast = _MONEY_FAST.fullmatch(text)
    if fast:
        sign, whole, cents = fast.groups()
        value = int(whole.replace(",", "")) * 100 + int(cents)
        return -value if sign else value
    m = _MONEY.match(text.strip())
    if not m or bool(m.group("open")) != bool(m.group("close")) or (m.group("neg1") and m.group("neg2")):
        raise ValueError(f"not an amount of money: {text!r}")
    try:
        amount = Decimal(m.group("num").replace(",", "")) * 100
    except InvalidOperation:
        raise ValueError(f"not an amount of money: {text!r}") from None
    if amount != amount.to_integral_value():
        raise ValueError(f"an amount with a fraction of a cent: {text!r}")
    cents = int(amount)
    return -cents if (m.group("open") or m.group("neg1") or m.group("neg2")) else cents


def integer(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"not a whole number: {text!r}") from None


def number(text: str | None) -> float | None:
    """'1,234.5' -> 1234.5; a quantity or a rate."""
    if not text:
        return None
    try:
        return float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None


_DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%m/%d/%y")
_DATETIME_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                     "%b %d, %Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p")


def date_iso(text: str | None, fmt: str | None = None) -> str | None:
    """A displayed date -> 'YYYY-MM-DD' (no invented time of day)."""
    if not text:
        return None
    for f in (fmt,) if fmt else _DATE_FORMATS:
        try:
            return datetime.strptime(text, f).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=8192)
def _offset(zone: ZoneInfo, year: int, month: int, day: int, hour: int, half_hour: int) -> timedelta | None:
    """The zone's UTC offset for a wall time in that half hour (zones change their offsets on the hour or the half
    hour), or None when the wall time does not exist (skipped by a spring-forward change). A list page's times
    share their days and hours: each is worked out once."""
    local = datetime(year, month, day, hour, half_hour * 30)
    first, second = zone.utcoffset(local), zone.utcoffset(local.replace(fold=1))
    return None if first is None or second is None or first < second else first


# The US portal display ('03/14/2025 2:05 PM'), read without strptime: it is most of a list page's cells.
_US_12H = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d\d) ([AP])M$")
_FAST_FORMATS = (None, "%m/%d/%Y %I:%M %p")


def instant_utc(text: str | None, tz: str, fmt: str | None = None) -> str | None:
    """A wall-clock time shown in the tenant's time zone -> UTC ISO 8601 ('2025-03-14T19:05:00Z')."""
    if not text:
        return None
    zone = _zone(tz)
    m = _US_12H.match(text) if fmt in _FAST_FORMATS else None
    if m:
        month, day, year, hour, minute, half = m.groups()
        h = int(hour)
        if 1 <= h <= 12:
            try:
                local = datetime(int(year), int(month), int(day), h % 12 + (12 if half == "P" else 0), int(minute))
            except ValueError:
                raise ValueError(f"not a date and time: {text!r}") from None
            offset = _offset(zone, local.year, local.month, local.day, local.hour, local.minute // 30)
            if offset is None:  # a wall time the spring-forward change skipped
                raise ValueError(f"{text!r} does not exist in {tz} (the clocks skipped it)")
            # An ambiguous (repeated) hour is read as its first occurrence, like astimezone.
            return (local - offset).isoformat() + "Z"
    for f in (fmt,) if fmt else _DATETIME_FORMATS:
        try:
            local = datetime.strptime(text, f)
        except ValueError:
            continue
        if local.tzinfo is not None:
            return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        utc = local.replace(tzinfo=zone).astimezone(UTC)
        if utc.astimezone(zone).replace(tzinfo=None) != local:  # skipped by a spring-forward change
            raise ValueError(f"{text!r} does not exist in {tz} (the clocks skipped it)")
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise ValueError(f"not a date and time: {text!r}")


# The usual US display, '(512) 555-0143': most phone cells of a list page.
_US_PHONE = re.compile(r"\((\d{3})\) ?(\d{3})-(\d{4})")
_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?)\s*\d+$")
_NOT_DIGIT = re.compile(r"\D")


def phone_e164(text: str | None, default_country: str = "1") -> str | None:
    """'(512) 555-0143' -> '+15125550143'. A number with an extension keeps only the number."""
    if not text:
        return None
    if default_country == "1":
        fast = _US_PHONE.fullmatch(text)
        if fast:
            return "+1" + "".join(fast.groups())
    main = _EXTENSION.split(text.strip())[0]
    digits = _NOT_DIGIT.sub("", main)
    if main.lstrip().startswith("+"):
        if 8 <= len(digits) <= 15:
            return "+" + digits
    elif len(digits) == 10 and default_country == "1":
        return "+1" + digits
    elif len(digits) == 11 and digits.startswith(default_country):
        return "+" + digits
    raise ValueError(f"not a phone number: {text!r}")


def email(text: str | None) -> str | None:
    if not text:
        return None
    value = text.strip().lower()
    if "@" not in value:
        raise ValueError(f"not an e-mail address: {text!r}")
    return value


def contact(text: str | None) -> str | None:
    """A contact method's value: an e-mail address (lower-cased) or a phone number (E.164)."""
    if not text:
        return None
    return email(text) if "@" in text else phone_e164(text)


def snake(text: str) -> str:
    """'On Hold' -> 'on_hold'; 'Accepted (Pre-Work)' -> 'accepted_pre_work'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def text(value: str | None) -> str | None:
    return value or None


_TRUE = frozenset(("yes", "true", "y", "1", "on", "✓", "active", "enabled", "opted in"))
_FALSE = frozenset(("no", "false", "n", "0", "off", "inactive", "disabled", "opted out"))


def boolean(text: str | None) -> bool | None:
    if not text:
        return None
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise ValueError(f"not yes or no: {text!r}")
