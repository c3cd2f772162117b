"""A core that knows no portal: every file under robots/ that names Sera is part of the Sera pack
(robots/packs/sera/), except a short allow-list of core files where the name appears only as an example.

"Names Sera" is the word, in any case, standing alone or in an identifier (`sera_username`, `robots.packs.sera`,
`flows/sera/`), but not inside another word (`navigator.userAgent` holds "serA")."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACK = "robots/packs/sera/"
SERA = re.compile(r"(?<![a-z])sera(?![a-z])", re.IGNORECASE)

#: core files allowed to name Sera, each with why
ALLOWED = {
    "robots/packs/__init__.py": "the pack contract's docstring shows Sera's entry point as the example of a pack",
    "robots/steps/signin.py": "step reference examples (docs/STEPS.md) sign in with the shipped pack's secrets",
    "robots/steps/extract.py": "step reference example: a record model of the shipped pack (sera.customer)",
    "robots/steps/files.py": "step reference example: a record model of the shipped pack (sera.customer)",
    "robots/steps/records.py": "step reference example: a record model of the shipped pack (sera.customer_detail)",
}


def _naming_sera() -> list[str]:
    found = []
    for path in sorted((ROOT / "robots").rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text
        if SERA.search(text) or SERA.search(path.relative_to(ROOT / "robots").as_posix()):
            found.append(path.relative_to(ROOT).as_posix())
    return found


def test_only_the_sera_pack_names_sera():
    outside = [f for f in _naming_sera() if not f.startswith(PACK) and f not in ALLOWED]
    assert outside == [], (f"core files name Sera (move the Sera-specific part to {PACK}, or, for an example "
                           f"only, add the file to ALLOWED with the reason): {', '.join(outside)}")


def test_every_allowed_file_still_names_sera():
    found = set(_naming_sera())
    stale = [f for f in ALLOWED if f not in found]
    assert stale == [], f"no longer naming Sera, so remove them from ALLOWED: {', '.join(stale)}"
