"""The sandbox's notion of "now": the wall clock plus an offset that tests set or advance (docs/CONTRACTS.md C6)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; a naive one is taken as UTC."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class SandboxClock:
    """Thread-safe offset clock. Only the offset is state; the wall clock keeps running underneath."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def set(self, instant: datetime) -> datetime:
        with self._lock:
            self._offset = instant - datetime.now(UTC)
        return self.now()

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> datetime:
        with self._lock:
            self._offset = timedelta()
        return self.now()
