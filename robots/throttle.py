"""The portal's own rate limit (HTTP 429 "Too many requests"): how long it asks robots to wait, and the back-off
that honours it.

A portal that throttles answers 429 with a `Retry-After` header (seconds, or an HTTP date). Code that sees the
response (the hybrid walk's HTTP client) reads the header; a browser cannot read headers, so the portal profile
names its throttled page (`throttle.page`, a selector such as `throttled.title`) and the element whose text states
the wait (`throttle.wait`: "Please wait 2 seconds"). The runner then waits that long (at most `max_wait`, never past
the run's deadline), reloads or repeats the step, and after `attempts` throttled answers ends the run with
`PortalThrottled`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from robots.errors import ConfigError, PortalThrottled

log = logging.getLogger("robots.throttle")

#: a throttled answer that states no wait is waited on this long
DEFAULT_WAIT = 1.0

_UNITS = {"ms": 0.001, "millisecond": 0.001, "s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0,
          "h": 3600.0, "hour": 3600.0}
_WAIT_IN_TEXT = re.compile(
    r"(?:wait|in|after|retry after)\s+(?:about\s+|at least\s+)?(\d+(?:\.\d+)?)\s*"
    r"(ms|milliseconds?|s|secs?|seconds?|min|minutes?|h|hours?)\b", re.I)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds ("2") or an HTTP date; None when absent or unreadable.
    A date in the past is 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def wait_in_text(text: str | None) -> float | None:
    """Seconds a throttled page asks for in its own words ("Please wait 2 seconds", "try again in 1 minute");
    None when it names no wait."""
    if not text:
        return None
    found = _WAIT_IN_TEXT.search(" ".join(text.split()))
    if found is None:
        return None
    unit = found.group(2).lower()
    unit = unit if unit in _UNITS else unit.rstrip("s")
    return float(found.group(1)) * _UNITS.get(unit, _UNITS.get(unit[:3], 1.0))


def seconds(value: float) -> str:
    """2 -> '2 s', 0.5 -> '0.5 s'."""
    return f"{value:g} s"


@dataclass(frozen=True)
class ThrottleProfile:
    """A portal profile's `throttle:` section: its throttled page, how many throttled answers a step (or a page
    of a walk) gets before the run ends, and the longest wait honoured."""

    page: str | None = None  # a selector of the throttled page (e.g. throttled.title)
    wait: str | None = None  # the element stating the wait (e.g. throttled.wait)
    attempts: int = 3
    max_wait: float = 60.0

    @classmethod
    def parse(cls, data: object, where: str) -> ThrottleProfile:
        if data is None:
            return cls()
        if not isinstance(data, dict) or set(data) - set(cls.__dataclass_fields__):
            raise ConfigError(f"{where}: `throttle` must be a mapping with keys {', '.join(cls.__dataclass_fields__)}")
        made = cls(**data)
        if not isinstance(made.attempts, int) or made.attempts < 1:
            raise ConfigError(f"{where}: `throttle.attempts` must be a whole number >= 1")
        if not isinstance(made.max_wait, int | float) or made.max_wait < 0:
            raise ConfigError(f"{where}: `throttle.max_wait` must be a number of seconds >= 0")
        return made


@dataclass
class Backoff:
    """The throttled answers met while doing one thing (a step, one page of a walk), and the waits for them."""

    what: str  # "customers.yaml steps[2].open", "GET https://.../customers?page=3"
    profile: ThrottleProfile
    #: seconds left before the run's deadline (None: no deadline)
    remaining: float | None = None
    waits: list[float] = field(default_factory=list)
    attempts: int = 0  # throttled answers so far

    def wait(self, asked: float | None, *, sleep: bool = True) -> float:
        """Count one throttled answer and wait what the portal asked (bounded); raise PortalThrottled when the
        attempts are used up or the deadline comes first. Returns the seconds waited."""
        pause = min(asked if asked is not None else DEFAULT_WAIT, self.profile.max_wait)
        self.attempts += 1
        if self.attempts >= self.profile.attempts:
            raise self.failure(pause)
        if self.remaining is not None and pause >= self.remaining:
            raise PortalThrottled(
                f"the portal answered 429 Too many requests ({self.what}) and asked for {seconds(pause)}, more than "
                f"the {seconds(round(self.remaining, 1))} left before the run's deadline",
                retry_after=pause)
        self.waits.append(pause)
        log.warning("throttled: the portal answered 429 Too many requests (%s); waiting %s (its Retry-After) "
                    "before attempt %d of %d", self.what, seconds(pause), self.attempts + 1, self.profile.attempts)
        if sleep and pause > 0:
            time.sleep(pause)  # back-off: the wait the portal's own Retry-After asked for (bounded by max_wait)
        if self.remaining is not None:
            self.remaining -= pause
        return pause

    def failure(self, asked: float) -> PortalThrottled:
        """The run's end: `attempts` throttled answers in a row. `asked`: the last answer's wait (the API passes
        it on as its own Retry-After)."""
        waited = self.waits
        if waited and len(set(waited)) == 1:
            how = f"waited {len(waited)} × {seconds(waited[0])}"
        elif waited:
            how = f"waited {' + '.join(seconds(w) for w in waited)}"
        else:
            how = "no wait allowed"
        return PortalThrottled(f"the portal kept answering 429 Too many requests to {self.what} "
                               f"({self.attempts} attempts, {how}; it asks for {seconds(asked)} more)",
                               retry_after=asked)
