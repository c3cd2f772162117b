"""The documentation that is generated stays true: docs/STEPS.md is `robots steps --format markdown`."""

from __future__ import annotations

from pathlib import Path

from robots.flow.reference import step_reference

ROOT = Path(__file__).resolve().parents[2]


def test_steps_md_is_the_generated_reference():
    assert (ROOT / "docs" / "STEPS.md").read_text(encoding="utf-8") == step_reference("markdown"), (
        "docs/STEPS.md is stale: run `robots steps --format markdown > docs/STEPS.md`")
