"""Key names and chords for the `press` step: `Enter`, `Control+A`, `Shift+Tab`, `Meta+Enter`. Pure (no Selenium):
the flow loader checks a key when it reads a flow, the page facade turns it into WebDriver key codes."""

from __future__ import annotations

import difflib
import re

#: The documented key names (as a browser's KeyboardEvent.key names them) and their WebDriver codes.
KEYS: dict[str, str] = {
    "Enter": "\ue007", "Tab": "\ue004", "Escape": "\ue00c", "Backspace": "\ue003", "Delete": "\ue017",
    "Insert": "\ue016", "Space": " ", "ArrowUp": "\ue013", "ArrowDown": "\ue015", "ArrowLeft": "\ue012",
    "ArrowRight": "\ue014", "Home": "\ue011", "End": "\ue010", "PageUp": "\ue00e", "PageDown": "\ue00f",
    **{f"F{n}": chr(0xE031 + n - 1) for n in range(1, 13)},
    "Control": "\ue009", "Shift": "\ue008", "Alt": "\ue00a", "Meta": "\ue03d",
}  # fmt: skip
MODIFIERS = ("Control", "Shift", "Alt", "Meta")

# Other spellings, the names of Selenium's Keys that flows used before (`ARROW_DOWN`, `Back_Space`, `Return`), and
# the rarer keys; looked up with case, spaces, '-' and '_' ignored.
_ALIASES: dict[str, str] = {
    "return": "Return", "esc": "Escape", "backspace": "Backspace", "del": "Delete", "ins": "Insert", "up": "ArrowUp",
    "down": "ArrowDown", "left": "ArrowLeft", "right": "ArrowRight", "pgup": "PageUp", "pgdn": "PageDown",
    "ctrl": "Control", "control": "Control", "leftcontrol": "Control", "option": "Alt", "leftalt": "Alt",
    "leftshift": "Shift", "cmd": "Meta", "command": "Meta", "super": "Meta", "win": "Meta", "windows": "Meta",
    "spacebar": "Space",
}  # fmt: skip
_RARE: dict[str, str] = {
    "Return": "\ue006", "Cancel": "\ue001", "Help": "\ue002", "Clear": "\ue005", "Pause": "\ue00b",
    "Semicolon": "\ue018", "Equals": "\ue019", "Multiply": "\ue024", "Add": "\ue025", "Separator": "\ue026",
    "Subtract": "\ue027", "Decimal": "\ue028", "Divide": "\ue029", "ZenkakuHankaku": "\ue040",
    **{f"Numpad{n}": chr(0xE01A + n) for n in range(10)},
}  # fmt: skip
def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


_BY_FOLDED = {_fold(n): n for n in (*KEYS, *_RARE)} | _ALIASES


class KeyNameError(ValueError):
    """A key or chord that is none; `problem` says what is wrong without repeating the whole text (for a flow
    check's message, which quotes what it got)."""

    def __init__(self, message: str, problem: str):
        super().__init__(message)
        self.problem = problem


def key_name(text: str, whole: str | None = None) -> str:
    """The canonical name of one key (`arrow_down` -> `ArrowDown`), or a single character as it is. Raises
    KeyNameError naming the nearest key name."""
    if len(text) == 1:
        return text
    found = _BY_FOLDED.get(_fold(text))
    if found is not None:
        return found
    close = difflib.get_close_matches(_fold(text), list(_BY_FOLDED), n=1, cutoff=0.6)
    hint = (f" (did you mean {_BY_FOLDED[close[0]]!r}?)" if close
            else f"; use a character or a key name: {', '.join(KEYS)}")
    problem = "unknown key" + (f" {text!r}" if whole not in (None, text) else "") + hint
    raise KeyNameError(f"unknown key {text!r}{hint}", problem)


def parse_chord(text: str) -> tuple[tuple[str, ...], str]:
    """`Control+Shift+Z` -> (("Control", "Shift"), "Z"): the modifiers held down and the key pressed with them. A
    `+` key is written last (`Control++`). Raises KeyNameError with what is wrong."""
    if not text:
        raise KeyNameError("no key given", "no key given")
    if len(text) == 1:
        return (), text
    parts = text[:-2].split("+") + ["+"] if text.endswith("++") else text.split("+")
    if len(parts) == 1:
        return (), key_name(text)
    parts = [p.strip() if p != "+" else p for p in parts]
    if any(not p for p in parts):
        problem = "a chord is key names joined by '+', e.g. Control+A"
        raise KeyNameError(f"{text!r}: {problem}", problem)
    names = [key_name(p, text) for p in parts]
    held, main = names[:-1], names[-1]
    if any(n not in MODIFIERS for n in held):
        problem = f"only the last key of a chord can be other than {', '.join(MODIFIERS[:-1])} or {MODIFIERS[-1]}"
        raise KeyNameError(f"{text!r}: {problem}", problem)
    if len(main) == 1 and main.isalpha():  # a letter pressed with modifiers: Shift decides its case
        main = main.upper() if "Shift" in held else main.lower()
    return tuple(held), main


def codes(text: str) -> tuple[tuple[str, ...], str]:
    """The WebDriver codes of a chord: (modifier codes, the key's code or character)."""
    held, main = parse_chord(text)
    return tuple(KEYS[m] for m in held), KEYS.get(main) or _RARE.get(main) or main


def documented() -> str:
    """The key names, for the press step's documentation."""
    return ", ".join(KEYS)
