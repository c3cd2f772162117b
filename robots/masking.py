"""Masking secrets in every encoding a value can take in an artifact (docs/CONTRACTS.md C4): raw, HTML-escaped,
URL-encoded, JSON-escaped."""

from __future__ import annotations

import html
import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus

import markupsafe

MASK = "••••••"
#: ends a shortened text
ELLIPSIS = "…"


def encodings(value: str) -> set[str]:
    forms = {
        value,
        html.escape(value, quote=True),
        html.escape(value, quote=False),
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"),
        quote(value, safe=""),
        quote_plus(value, safe=""),
        quote(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(json.dumps(value)[1:-1], quote=True),
        str(markupsafe.escape(value)),  # Jinja2's autoescape: &#34; and &#39;
        repr(value)[1:-1],  # Python's repr, as in `{value!r}` and in printed dicts and lists
    }
    return {f for f in forms if f}


class Masker:
    """Replaces every known secret (in any of its encodings) with a mask."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for s in secrets:
            self.add(s)

    def add(self, secret: str) -> None:
        if not secret or len(secret) < 3:  # too short to mask without destroying the text around it
            return
        self._forms |= encodings(secret)
        ordered = sorted(self._forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered))

    @property
    def values(self) -> list[str]:
        return sorted(self._forms)

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def deep(self, value):
        """Mask strings inside lists and dicts too."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.deep(v) for v in value)
        if isinstance(value, dict):
            return {self.deep(k): self.deep(v) for k, v in value.items()}
        return value


def shorten(text: str, limit: int, masker: Callable[[str], str] | None = None, *, keep_end: bool = False) -> str:
    """`text` in at most `limit` characters, ending with `…` when it was cut (`keep_end`: its last characters,
    starting with `…`). Every place that shortens a text for a record, a report, a log or a terminal goes through
    here, with the run's masker when the text may hold a secret: the text is masked first, then cut. Cut first, a
    secret split at the limit is no longer a value the masker knows, and its first characters would be kept (a
    masked text is safe to cut anywhere)."""
    if masker is not None:
        text = masker(text)
    if len(text) <= limit:
        return text
    kept = max(0, limit - len(ELLIPSIS))
    return ELLIPSIS + text[len(text) - kept:] if keep_end else text[:kept] + ELLIPSIS


class MaskingFilter(logging.Filter):
    """A logging filter that masks secrets in every record passing through a handler."""

    def __init__(self, masker: Masker):
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed log call must not raise into the step that made it
            message = f"{record.msg} (log arguments did not fit: {record.args!r})"
        record.msg = self.masker(message)
        record.args = None
        if record.exc_info:
            # Formatted here, masked, and cached where Formatter looks first: the traceback often quotes values.
            record.exc_text = self.masker("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.masker(record.stack_info)
        return True
