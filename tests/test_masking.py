"""Masking secrets in every form a value can take in an artifact (docs/CONTRACTS.md C4, docs/STYLE.md rule 12). The
planted secret holds every character with a distinct raw, HTML, URL and JSON encoding: & < > " ' % + and a space."""

from __future__ import annotations

import html
import io
import json
import logging
from collections.abc import Iterator
from urllib.parse import quote, quote_plus, urlencode

import markupsafe
import pytest

from robots.masking import MASK, Masker, MaskingFilter, encodings

SECRET = "Pa&<>\"'%+ 2026"

# Each form embedded in a larger text, as it appears in an artifact.
FORMS = {
    "raw": f"typed {SECRET} into the password field",
    "html escaped": f"<input value=\"{html.escape(SECRET)}\"> done",
    "html escaped, quotes left": f"<p>{html.escape(SECRET, quote=False)}</p>",
    "url quote": f"https://x.test/login?next=%2F&pw={quote(SECRET)}&x=1",
    "url quote, nothing safe": f"https://x.test/?pw={quote(SECRET, safe='')}",
    "url quote_plus (form body)": f"username=demo&password={quote_plus(SECRET)}&csrf=abc",
    "urlencode": "POST body " + urlencode({"username": "demo", "password": SECRET}),
    "json": json.dumps({"fields": [{"name": "password", "value": SECRET}]}),
    "json, non-ascii kept": json.dumps({"v": SECRET + " é"}, ensure_ascii=False),
    "json inside html": f"<script>var cfg = {html.escape(json.dumps({'pw': SECRET}))};</script>",
}


@pytest.mark.parametrize("text", list(FORMS.values()), ids=list(FORMS))
def test_secret_is_masked_in_every_encoding(text: str) -> None:
    masked = Masker([SECRET])(text)
    assert MASK in masked
    for form in encodings(SECRET):
        assert form not in masked
    assert "2026" not in masked  # no tail of the secret is left behind either


def test_encodings_lists_the_forms() -> None:
    forms = encodings(SECRET)
    assert {
        SECRET,
        "Pa&amp;&lt;&gt;&quot;&#x27;%+ 2026",
        "Pa&amp;&lt;&gt;\"'%+ 2026",
        "Pa%26%3C%3E%22%27%25%2B%202026",
        "Pa%26%3C%3E%22%27%25%2B+2026",
        "Pa&<>\\\"'%+ 2026",
    } <= forms


def test_text_around_the_secret_is_untouched() -> None:
    masker = Masker([SECRET])
    text = f"user=demo password={SECRET} & 100% done <ok>"
    assert masker(text) == f"user=demo password={MASK} & 100% done <ok>"
    assert masker("") == ""
    assert Masker()("nothing to hide") == "nothing to hide"


def test_several_secrets_longest_first() -> None:
    masker = Masker(["JBSWY3DPEHPK3PXP", "JBSWY3DP"])
    assert masker("totp=JBSWY3DPEHPK3PXP and JBSWY3DP") == f"totp={MASK} and {MASK}"


def test_very_short_values_are_not_masked() -> None:
    # Masking "ab" would destroy the text around it; such a value is not treated as a secret.
    assert Masker(["ab"])("tab stab") == "tab stab"


def test_deep_masks_nested_data_without_changing_it() -> None:
    data = {
        "outputs": {"customers": [{"name": "Zoë", "note": f"pw {SECRET}"}]},
        "args": ("fill", {"value": SECRET, "timeout": 15.0, "optional": False}),
        SECRET: [1, None, quote_plus(SECRET)],
    }
    before = json.dumps(data, default=list)
    assert Masker([SECRET]).deep(data) == {
        "outputs": {"customers": [{"name": "Zoë", "note": f"pw {MASK}"}]},
        "args": ("fill", {"value": MASK, "timeout": 15.0, "optional": False}),
        MASK: [1, None, MASK],
    }
    assert json.dumps(data, default=list) == before


def test_html_escaped_by_jinja_is_masked() -> None:
    """Bug: Jinja's autoescape (markupsafe) writes ' and " as &#39; and &#34;, a form `encodings()` does not
    list. Any HTML rendered by Jinja (the sandbox portal's own pages, as an HTTP client saves them; a future
    HTML report) carries the secret in this form unmasked. (Chrome's DOM serialization, used for page-source
    evidence, writes &quot; and a bare ', which is covered.)"""
    text = f'<input name="username" value="{markupsafe.escape(SECRET)}">'
    assert Masker([SECRET])(text) == f'<input name="username" value="{MASK}">'


def test_repr_of_a_secret_is_masked() -> None:
    """Bug: the library quotes values with !r in its own messages (e.g. steps/navigation.py: "open: the URL must
    be absolute, got {args.url!r}"), and the engine masks those messages before they reach the run record.
    A secret holding both quote kinds has the repr 'Pa&<>"\\'%+ 2026' (the ' escaped), which is not masked."""
    url = f"x.test/login?pw={SECRET}"
    message = f"open: the URL must be absolute, got {url!r}"
    assert Masker([SECRET])(message) == f"open: the URL must be absolute, got 'x.test/login?pw={MASK}'"


# ------------------------------------------------------------------------------------------------ logging


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose handler masks, formatted the way the CLI formats (robots/cli.py)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("robots: %(message)s"))
    handler.addFilter(MaskingFilter(Masker([SECRET])))
    logger = logging.getLogger("robots.tests.masking")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers[:] = []


def test_logging_filter_masks_message_and_arguments(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("typed %s into %s", SECRET, "login.password")
    logger.warning(f"submitted {quote_plus(SECRET)}")
    logger.info("%d%% of %s", 50, "pages")
    assert stream.getvalue().splitlines() == [
        f"robots: typed {MASK} into login.password",
        f"robots: submitted {MASK}",
        "robots: 50% of pages",
    ]


def test_logging_filter_masks_the_repr_of_a_value(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """Bug: `%r` (and a dict or list argument) shows a secret holding both quote kinds as
    'Pa&<>"\\'%+ 2026': Python's repr escapes the ', a form the masker does not know."""
    logger, stream = captured
    logger.info("filled %r", SECRET)
    logger.info("args %s", {"value": SECRET})
    assert stream.getvalue().splitlines() == [f"robots: filled '{MASK}'", f"robots: args {{'value': '{MASK}'}}"]


def test_logging_filter_masks_exception_tracebacks(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """Bug: the filter masks the message only; `log.exception(...)` prints the exception's text (which often
    quotes the value that failed) unmasked in the traceback."""
    logger, stream = captured
    try:
        raise RuntimeError(f"login rejected for password {SECRET}")
    except RuntimeError:
        logger.exception("step %s failed", "steps[2].fill")
    out = stream.getvalue()
    assert out.startswith("robots: step steps[2].fill failed\nTraceback (most recent call last):\n")
    assert f"RuntimeError: login rejected for password {MASK}" in out
    assert SECRET not in out


def test_logging_filter_does_not_turn_a_bad_log_call_into_a_crash(
        captured: tuple[logging.Logger, io.StringIO], capsys: pytest.CaptureFixture[str]) -> None:
    """Bug: logging never lets a malformed call (wrong % arguments) raise into the caller; it reports it
    on stderr and goes on. MaskingFilter formats the message itself, outside that guard, so with it attached
    `log.warning("%d rows", "many")` raises TypeError in the middle of a run."""
    logger, stream = captured
    logger.warning("%d rows", "many")  # must not raise
    logger.warning("after")
    assert stream.getvalue().endswith("robots: after\n")
