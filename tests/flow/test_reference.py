"""`robots steps`: the step reference is generated from the registry, so every step is in it, each with
an example that the schema (and, where the example is derived, the argument model) accepts."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import yaml
from pydantic import ValidationError

from robots.flow.reference import example_yaml, step_reference, step_section
from robots.flow.schema import flow_schema, primary_key
from robots.steps import REGISTRY, StepArgs, StepDef
from robots.steps.base import SelectorRef

from . import minischema

CLICK_TEXT = """\
click
    Click an element once it is visible and enabled.

    target  selector  required, main

    example:
        - click: page.name"""

CLICK_MARKDOWN = """\
### `click`

Click an element once it is visible and enabled.

| argument | type | required / default | description |
| --- | --- | --- | --- |
| `target` | selector | required, main |  |

```yaml
- click: page.name
```"""


def test_click_as_text():
    assert step_section(REGISTRY["click"], "text") == CLICK_TEXT


def test_click_as_markdown():
    assert step_section(REGISTRY["click"], "markdown") == CLICK_MARKDOWN


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_every_registered_step_appears(fmt):
    ref = step_reference(fmt)
    heading = (lambda n: f"### `{n}`") if fmt == "markdown" else (lambda n: n)
    lines = ref.splitlines()
    assert [n for n in REGISTRY if heading(n) not in lines] == []
    assert f"({len(REGISTRY)})" in ref


def test_the_common_options_appear_once():
    ref = step_reference("text")
    common = ref.split("STEPS (")[0]
    for option in StepArgs.model_fields:
        assert f"\n    {option} " in common
    assert ref.count("a label for logs and reports") == 1


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format 'html'"):
        step_reference("html")  # type: ignore[arg-type]


# A registry of made-up steps: derivation rules without depending on the real steps' evolution.
class _Plain(StepArgs):
    target: SelectorRef
    count: int
    ratio: float = 0.5


class _Shorthand(StepArgs):
    primary: ClassVar[str | None] = "text"
    text: str
    loud: bool = False


class _Own(StepArgs):
    example: ClassVar[str | None] = "- own: {x: 1}"
    x: int = 0


class _Nested(StepArgs):
    steps: list[Any]
    tries: int = 2


def _noop(ctx, args):  # pragma: no cover - never run
    """Do nothing."""


FAKE = {
    "plain": StepDef("plain", _Plain, _noop),
    "short": StepDef("short", _Shorthand, _noop),
    "own": StepDef("own", _Own, _noop),
    "bare": StepDef("bare", StepArgs, _noop),
    "nest": StepDef("nest", _Nested, _noop, blocks=("steps",)),
}


def test_examples_are_derived_from_the_model():
    assert example_yaml(FAKE["plain"], steps=FAKE) == "- plain: {target: page.name, count: 1}"
    assert example_yaml(FAKE["short"], steps=FAKE) == "- short: text"
    assert example_yaml(FAKE["own"], steps=FAKE) == "- own: {x: 1}"
    assert example_yaml(FAKE["bare"], steps=FAKE) == "- bare"
    assert example_yaml(FAKE["nest"], steps=FAKE) == "- nest:\n    steps:\n      - short: text"


def test_a_made_up_registry_gets_a_reference():
    ref = step_reference("text", steps=FAKE)
    assert "STEPS (5)" in ref
    assert "    count   integer   required\n" in ref
    assert "    ratio   number    default: 0.5\n" in ref


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return flow_schema()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_example_fits_the_schema(name, schema):
    item = yaml.safe_load(example_yaml(REGISTRY[name]))
    assert minischema.errors({"name": "t", "steps": item}, schema) == []


def _arguments(name: str, item: Any) -> dict[str, Any]:
    """What the loader would validate for one list item."""
    raw = None if isinstance(item, str) else item[name]
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    return {primary_key(REGISTRY[name].args): raw}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_example_fits_the_argument_model(name):
    """A derived example cannot know cross-field rules or validators; such a step should carry its own
    `example` (this test names it)."""
    item = yaml.safe_load(example_yaml(REGISTRY[name]))[0]
    try:
        REGISTRY[name].args.model_validate(_arguments(name, item))
    except ValidationError as e:
        pytest.fail(f"give {REGISTRY[name].args.__name__} an `example: ClassVar[str]`: {e.errors()[0]['msg']}")
