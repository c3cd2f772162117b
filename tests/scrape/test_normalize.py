"""Normalizers: what a portal displays -> the normalized value a flow returns (exact values, exact errors)."""

from __future__ import annotations

import pytest

from robots.scrape import normalize

CHICAGO = "America/Chicago"


@pytest.mark.parametrize(("shown", "cents"), [
    ("$1,234.50", 123450),
    ("-$45.00", -4500),
    ("($45.00)", -4500),
    ("$-45.00", -4500),
    ("$0.00", 0),
    ("$10,354.93", 1035493),
    ("$0.07", 7),
    ("$ 12", 1200),
    ("", None),
    (None, None),
])
def test_money_cents(shown: str | None, cents: int | None) -> None:
    assert normalize.money_cents(shown) == cents


@pytest.mark.parametrize("shown", ["abc", "$", "N/A", "1.234,50", "$12.34.56"])
def test_money_that_is_not_money_names_the_text(shown: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize.money_cents(shown)
    assert str(caught.value) == f"not an amount of money: {shown!r}"


@pytest.mark.parametrize(("shown", "value"), [("1,234", 1234), ("0", 0), ("-3", -3), ("", None)])
def test_integer(shown: str, value: int | None) -> None:
    assert normalize.integer(shown) == value


def test_integer_error() -> None:
    with pytest.raises(ValueError, match=r"^not a whole number: '12\.5'$"):
        normalize.integer("12.5")


@pytest.mark.parametrize(("shown", "iso"), [
    ("03/14/2025", "2025-03-14"),
    ("2025-03-14", "2025-03-14"),
    ("Mar 14, 2025", "2025-03-14"),
    ("March 14, 2025", "2025-03-14"),
    ("03/14/25", "2025-03-14"),
    ("", None),
])
def test_date_iso(shown: str, iso: str | None) -> None:
    assert normalize.date_iso(shown) == iso


def test_date_with_explicit_format() -> None:
    assert normalize.date_iso("14.03.2025", "%d.%m.%Y") == "2025-03-14"
    with pytest.raises(ValueError, match=r"^not a date: '03/14/2025'$"):
        normalize.date_iso("03/14/2025", "%d.%m.%Y")


def test_date_error_names_the_text() -> None:
    with pytest.raises(ValueError) as caught:
        normalize.date_iso("14/03/2025")  # day first: no US format reads it
    assert str(caught.value) == "not a date: '14/03/2025'"


@pytest.mark.parametrize(("shown", "utc"), [
    # Central Standard Time (UTC-6) in winter.
    ("01/15/2025 9:05 AM", "2025-01-15T15:05:00Z"),
    ("01/15/2025 11:59 PM", "2025-01-16T05:59:00Z"),
    ("12/31/2024 6:30 PM", "2025-01-01T00:30:00Z"),
    # 2025-03-09: clocks go from 2:00 CST to 3:00 CDT. Before the jump is UTC-6, after it UTC-5.
    ("03/09/2025 1:30 AM", "2025-03-09T07:30:00Z"),
    ("03/09/2025 3:30 AM", "2025-03-09T08:30:00Z"),
    # Central Daylight Time (UTC-5) in summer.
    ("07/04/2025 12:00 PM", "2025-07-04T17:00:00Z"),
    ("07/04/2025 12:00 AM", "2025-07-04T05:00:00Z"),
    # 2025-11-02: back to CST at 2:00 CDT; the afternoon is UTC-6 again.
    ("11/02/2025 3:00 PM", "2025-11-02T21:00:00Z"),
    # The other formats a portal shows.
    ("03/14/2025 14:05", "2025-03-14T19:05:00Z"),
    ("2025-03-14 14:05", "2025-03-14T19:05:00Z"),
    ("2025-03-14T14:05:09", "2025-03-14T19:05:09Z"),
    ("Mar 14, 2025 2:05 PM", "2025-03-14T19:05:00Z"),
    ("03/14/2025 2:05:30 PM", "2025-03-14T19:05:30Z"),
    ("", None),
])
def test_instant_utc_in_chicago(shown: str, utc: str | None) -> None:
    assert normalize.instant_utc(shown, CHICAGO) == utc


def test_instant_with_explicit_format_and_other_zone() -> None:
    assert normalize.instant_utc("03/09/2025 3:30 AM", CHICAGO, "%m/%d/%Y %I:%M %p") == "2025-03-09T08:30:00Z"
    assert normalize.instant_utc("03/09/2025 3:30 AM", "UTC", "%m/%d/%Y %I:%M %p") == "2025-03-09T03:30:00Z"
    assert normalize.instant_utc("03/30/2025 3:30 AM", "Europe/Berlin") == "2025-03-30T01:30:00Z"


def test_instant_error_names_the_text() -> None:
    with pytest.raises(ValueError) as caught:
        normalize.instant_utc("yesterday at noon", CHICAGO)
    assert str(caught.value) == "not a date and time: 'yesterday at noon'"
    with pytest.raises(ValueError, match=r"^not a date and time: '03/14/2025'$"):
        normalize.instant_utc("03/14/2025", CHICAGO, "%m/%d/%Y %I:%M %p")


@pytest.mark.parametrize(("shown", "e164"), [
    ("(512) 555-0143", "+15125550143"),
    ("512-555-0143", "+15125550143"),
    ("512.555.0143", "+15125550143"),
    ("5125550143", "+15125550143"),
    ("1 (512) 555-0143", "+15125550143"),
    ("+1 512 555 0143", "+15125550143"),
    ("(512) 555-0143 x12", "+15125550143"),
    ("(512) 555-0143 ext. 7", "+15125550143"),
    ("+44 20 7946 0958", "+442079460958"),
    ("", None),
])
def test_phone_e164(shown: str, e164: str | None) -> None:
    assert normalize.phone_e164(shown) == e164


@pytest.mark.parametrize("shown", ["555-0143", "call the office", "(512) 555-01432", "+12 34"])
def test_phone_error_names_the_text(shown: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize.phone_e164(shown)
    assert str(caught.value) == f"not a phone number: {shown!r}"


@pytest.mark.parametrize(("shown", "value"), [
    ("Zoe.OBrien@Example.com", "zoe.obrien@example.com"),
    (" Office@Robertson.example.COM ", "office@robertson.example.com"),
    ("ap@adams.example.com", "ap@adams.example.com"),
    ("", None),
])
def test_email_lower_cased(shown: str, value: str | None) -> None:
    assert normalize.email(shown) == value


def test_email_error() -> None:
    with pytest.raises(ValueError, match=r"^not an e-mail address: 'office at example\.com'$"):
        normalize.email("office at example.com")


@pytest.mark.parametrize(("label", "value"), [
    ("On Hold", "on_hold"),
    ("Active", "active"),
    ("Accepted (Pre-Work)", "accepted_pre_work"),
    ("  In   Progress ", "in_progress"),
    ("Needs-Parts/Ordered", "needs_parts_ordered"),
])
def test_snake_case_enum_labels(label: str, value: str) -> None:
    assert normalize.snake(label) == value


@pytest.mark.parametrize(("shown", "value"), [
    ("Yes", True), ("yes", True), ("TRUE", True), ("Y", True), ("1", True), ("on", True), ("✓", True),
    ("No", False), ("false", False), ("n", False), ("0", False), ("Off", False),
    ("", None), (None, None),
])
def test_boolean(shown: str | None, value: bool | None) -> None:
    assert normalize.boolean(shown) is value


def test_boolean_error() -> None:
    with pytest.raises(ValueError, match=r"^not yes or no: 'maybe'$"):
        normalize.boolean("maybe")


def test_text_empty_is_none() -> None:
    assert normalize.text("") is None
    assert normalize.text("Austin") == "Austin"


@pytest.mark.parametrize(("text", "message"), [
    ("$45.00)", "not an amount of money: '$45.00)'"),
    ("$1,2,3", "not an amount of money: '$1,2,3'"),
    ("--$4", "not an amount of money: '--$4'"),
    ("$1.005", "an amount with a fraction of a cent: '$1.005'"),
])
def test_malformed_money_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize.money_cents(text)
    assert str(caught.value) == message


def test_a_local_time_skipped_by_daylight_saving_is_refused() -> None:
    with pytest.raises(ValueError) as caught:
        normalize.instant_utc("03/09/2025 2:30 AM", "America/Chicago")
    assert str(caught.value) == "'03/09/2025 2:30 AM' does not exist in America/Chicago (the clocks skipped it)"


def test_an_ambiguous_fall_back_time_reads_as_the_first_occurrence() -> None:
    assert normalize.instant_utc("11/02/2025 1:30 AM", "America/Chicago") == "2025-11-02T06:30:00Z"


def test_label_strategy_finds_the_control_a_label_names():
    import lxml.html

    from robots.locators import parse_locator

    page = lxml.html.fromstring(
        '<form><label for="e">E-mail</label><input id="e" name="email">'
        '<label>Notes <textarea name="notes"></textarea></label>'
        "<label>Other</label><input name=\"x\"></form>")
    for text, name in (("E-mail", "email"), ("Notes", None)):
        by, xpath = parse_locator(f"label:{text}").webdriver()
        assert by == "xpath"
        [el] = page.xpath(xpath)
        assert el.get("name") == (name or "notes")
    assert page.xpath(parse_locator("label:Missing").webdriver()[1]) == []


@pytest.mark.parametrize("zone", ["America/Chicago", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/London"])
def test_the_fast_us_display_reads_every_minute_around_the_changes_of_the_clock_as_zoneinfo_does(zone: str) -> None:
    """The 12-hour display is read without strptime, with the zone's offset worked out once per half hour: every
    minute of the days the clocks change (Lord Howe changes by half an hour) and of an ordinary day agrees with
    zoneinfo's own conversion, and a skipped minute is refused."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    days = [datetime(2025, 3, 9), datetime(2025, 11, 2), datetime(2025, 4, 6), datetime(2025, 10, 5),
            datetime(2025, 3, 30), datetime(2025, 10, 26), datetime(2025, 7, 15)]  # fmt: skip
    checked = 0
    for day in days:
        for minute in range(24 * 60):
            local = day + timedelta(minutes=minute)
            shown = local.strftime("%m/%d/%Y ") + f"{local.hour % 12 or 12}:{local.minute:02d} " + local.strftime("%p")
            utc = local.replace(tzinfo=tz).astimezone(UTC)
            if utc.astimezone(tz).replace(tzinfo=None) != local:
                with pytest.raises(ValueError, match="the clocks skipped it"):
                    normalize.instant_utc(shown, zone)
            else:
                assert normalize.instant_utc(shown, zone) == utc.strftime("%Y-%m-%dT%H:%M:%SZ"), shown
            checked += 1
    assert checked == 7 * 24 * 60


@pytest.mark.parametrize(("shown", "e164"), [
    ("(512) 555-0143", "+15125550143"),
    ("(512)555-0143", "+15125550143"),
    (" (512) 555-0143 ", "+15125550143"),
    ("(512) 555-0143 x12", "+15125550143"),
])
def test_the_usual_phone_display_and_its_variants_read_alike(shown: str, e164: str) -> None:
    assert normalize.phone_e164(shown) == e164


def test_a_usual_us_phone_with_another_default_country_is_not_read_as_american() -> None:
    with pytest.raises(ValueError) as caught:
        normalize.phone_e164("(512) 555-0143", default_country="44")
    assert str(caught.value) == "not a phone number: '(512) 555-0143'"
