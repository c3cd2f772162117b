"""The portal's 429: reading the wait it asks for (header and page text), and the bounded back-off's messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from robots.errors import ConfigError, PortalThrottled
from robots.throttle import Backoff, ThrottleProfile, retry_after, wait_in_text

NOW = datetime(2026, 11, 26, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "seconds"), [
    ("2", 2.0), (" 30 ", 30.0), ("0", 0.0), ("1.5", 1.5),
    ("Thu, 26 Nov 2026 01:00:07 GMT", 7.0),
    ("Thu, 26 Nov 2026 00:59:00 GMT", 0.0),  # a date gone by: no wait
    (None, None), ("", None), ("soon", None), ("-3", None),
])  # fmt: skip
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(("text", "seconds"), [
    ("You're doing that too often. Please wait 2 seconds and try again.", 2.0),
    ("Please wait 1 second and try again.", 1.0),
    ("Too many requests.\\n  Please   wait\\n 45 s", 45.0),
    ("Try again in 1 minute", 60.0),
    ("retry after 500 ms", 0.5),
    ("Please wait 2 hours", 7200.0),
    ("You're doing that too often. Please wait a moment and try again.", None),
    ("", None), (None, None),
])  # fmt: skip
def test_wait_in_the_pages_words(text: str | None, seconds: float | None) -> None:
    assert wait_in_text(text.replace("\\n", "\n") if text else text) == seconds


def test_backoff_waits_what_was_asked_bounded_then_ends_with_the_exact_message() -> None:
    backoff = Backoff("list_customers.yaml steps[1].open", ThrottleProfile(attempts=3, max_wait=60))
    assert backoff.wait(2, sleep=False) == 2
    assert backoff.wait(90, sleep=False) == 60  # bounded by max_wait
    with pytest.raises(PortalThrottled) as e:
        backoff.wait(2, sleep=False)
    assert str(e.value) == ("the portal kept answering 429 Too many requests to list_customers.yaml steps[1].open "
                            "(3 attempts, waited 2 s + 60 s; it asks for 2 s more)")
    assert e.value.retry_after == 2 and e.value.failure_kind == "portal_throttled"


def test_the_same_wait_each_time_reads_as_a_count() -> None:
    backoff = Backoff("GET http://portal/customers?page=2", ThrottleProfile(attempts=4))
    for _ in range(3):
        backoff.wait(None, sleep=False)  # no wait stated: one second
    with pytest.raises(PortalThrottled, match=r"\(4 attempts, waited 3 × 1 s; it asks for 1 s more\)$"):
        backoff.wait(None, sleep=False)


def test_the_runs_deadline_comes_before_a_long_wait() -> None:
    backoff = Backoff("x.yaml steps[0].open", ThrottleProfile(), remaining=5.0)
    with pytest.raises(PortalThrottled) as e:
        backoff.wait(30, sleep=False)
    assert str(e.value) == ("the portal answered 429 Too many requests (x.yaml steps[0].open) and asked for 30 s, "
                            "more than the 5 s left before the run's deadline")


def test_profile_section_is_checked() -> None:
    assert ThrottleProfile.parse(None, "p") == ThrottleProfile()
    assert ThrottleProfile.parse({"page": "throttled.wait", "attempts": 5}, "p").attempts == 5
    with pytest.raises(ConfigError, match="`throttle` must be a mapping with keys page, wait, attempts, max_wait"):
        ThrottleProfile.parse({"pages": "x"}, "portal profile 'sera'")
    with pytest.raises(ConfigError, match="attempts` must be a whole number >= 1"):
        ThrottleProfile.parse({"attempts": 0}, "p")
