"""Key names and chords of the press step (robots/browser/keys.py): pure, no browser."""

from __future__ import annotations

import pytest

from robots.browser.keys import KeyNameError, codes, parse_chord


@pytest.mark.parametrize(("text", "parsed"), [
    ("Enter", ((), "Enter")),
    ("a", ((), "a")),
    ("+", ((), "+")),
    ("Control+A", (("Control",), "a")),  # a letter's case follows Shift
    ("Control+Shift+z", (("Control", "Shift"), "Z")),
    ("Shift+Tab", (("Shift",), "Tab")),
    ("Meta+Enter", (("Meta",), "Enter")),
    ("ctrl++", (("Control",), "+")),
    ("Cmd+Return", (("Meta",), "Return")),
    ("Arrow_Down", ((), "ArrowDown")),  # the names flows used before (Selenium's Keys)
    ("PAGE_DOWN", ((), "PageDown")),
    ("page down", ((), "PageDown")),
    ("BACK_SPACE", ((), "Backspace")),
    ("esc", ((), "Escape")),
])  # fmt: skip
def test_key_names_and_chords(text, parsed):
    assert parse_chord(text) == parsed


def test_webdriver_codes():
    assert codes("Control+A") == (("\ue009",), "a")
    assert codes("Shift+Tab") == (("\ue008",), "\ue004")
    assert codes("F12") == ((), "\ue03c")


@pytest.mark.parametrize(("text", "message", "problem"), [
    ("Entr", "unknown key 'Entr' (did you mean 'Enter'?)", "unknown key (did you mean 'Enter'?)"),
    ("Control+Entr", "unknown key 'Entr' (did you mean 'Enter'?)", "unknown key 'Entr' (did you mean 'Enter'?)"),
    ("A+Control", "'A+Control': only the last key of a chord can be other than Control, Shift, Alt or Meta",
     "only the last key of a chord can be other than Control, Shift, Alt or Meta"),
    ("Control+", "'Control+': a chord is key names joined by '+', e.g. Control+A",
     "a chord is key names joined by '+', e.g. Control+A"),
])  # fmt: skip
def test_a_key_that_is_none_says_why(text, message, problem):
    with pytest.raises(KeyNameError) as caught:
        parse_chord(text)
    assert (str(caught.value), caught.value.problem) == (message, problem)
