"""The flow JSON Schema (for editors) is valid, accepts every flow in the repo, rejects known mistakes,
and says the same as the pydantic models and the step registry it is generated from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from robots.flow.model import FlowDoc
from robots.flow.schema import (
    SELECTOR_KEYS_NOTE,
    SELECTOR_NOTE,
    flow_blocks,
    flow_schema,
    selector_fields,
    step_blocks,
    written_args,
)
from robots.steps import REGISTRY

from . import minischema

REPO = Path(__file__).resolve().parents[2]
FLOWS = sorted((REPO / "flows").rglob("*.yaml")) + sorted((REPO / "tests" / "browser" / "flows").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return flow_schema()


def _jsonschema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema)
    return [e.message for e in validator.iter_errors(instance)]


VALIDATORS = {"minischema": minischema.errors, "jsonschema": _jsonschema_errors}


@pytest.fixture(params=sorted(VALIDATORS))
def errors(request: pytest.FixtureRequest):
    return VALIDATORS[request.param]


def branch(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found = [b for b in schema["$defs"]["step"]["oneOf"] if name in b.get("properties", {})]
    assert len(found) == 1, name
    return found[0]


def args_object(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The mapping form of a step's arguments inside its branch."""
    value = branch(schema, name)["properties"][name]
    forms = value.get("anyOf", [value])
    objects = [f for f in forms if f.get("type") == "object"]
    assert len(objects) == 1, name
    return objects[0]


# ------------------------------------------------------------------------------------------- validity
def test_the_schema_is_structurally_valid(schema):
    assert minischema.check_schema(schema) == []


def test_the_schema_is_a_valid_2020_12_schema(schema):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_schema_is_json_and_stable(schema):
    text = json.dumps(schema, sort_keys=False)
    assert json.loads(text) == schema
    assert json.dumps(flow_schema()) == text


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_flow_in_the_repo_validates(path, schema, errors):
    assert errors(yaml.safe_load(path.read_text(encoding="utf-8")), schema) == []


def test_the_checker_notices_a_broken_schema(schema):
    broken = json.loads(json.dumps(schema))
    broken["$defs"]["steps"]["items"] = {"$ref": "#/$defs/nowhere"}
    broken["properties"]["name"]["typo"] = 1
    assert minischema.check_schema(broken) == [
        "#/properties/name/typo: unknown keyword",
        "#/$defs/steps/items/$ref: dangling reference '#/$defs/nowhere'",
    ]


# ------------------------------------------------------------------------------------------- known-bad
HEAD = {"name": "t", "portal": "sera"}
BAD = {
    "unknown step": [{"clik": "login.submit"}],
    "missing required argument": [{"fill": {"target": "login.username"}}],
    "unknown argument": [{"fill": {"target": "login.username", "value": "x", "clr": False}}],
    "wrong argument type": [{"paginate": {"next": "customers.next_page", "max_pages": "lots",
                                          "steps": [{"click": "x.y"}]}}],
    "bad step inside a container": [{"paginate": {"next": "customers.next_page", "max_pages": 2,
                                                  "steps": [{"fill": {"target": "login.username"}}]}}],
    "arguments beside the step name": [{"fill": None, "target": "login.username", "value": "x"}],
    "bare name of a step with required arguments": ["click"],
    "scalar for a step without a main argument": [{"fill": "login.username"}],
    "bad common option": [{"click": {"target": "login.submit", "timeout": 0}}],
    "empty steps": [],
}


@pytest.mark.parametrize("steps", BAD.values(), ids=list(BAD))
def test_a_known_bad_flow_fails(steps, schema, errors):
    assert errors({**HEAD, "steps": steps}, schema) != []


def test_bad_top_level_fails(schema, errors):
    assert errors({"steps": [{"click": "a.b"}]}, schema) != []  # no name
    assert errors({**HEAD, "stepz": [], "steps": [{"click": "a.b"}]}, schema) != []
    assert errors({**HEAD, "vars": {"q": {"defualt": ""}}, "steps": [{"click": "a.b"}]}, schema) != []


GOOD = {
    "shorthand": [{"click": "login.submit"}],
    "mapping": [{"click": {"target": "login.submit", "optional": True, "when": "vars.q != ''"}}],
    "vars and outputs shorthands": [{"click": "login.submit"}],
}


def test_the_written_forms_validate(schema, errors):
    doc = {**HEAD, "vars": {"q": "", "n": 5, "spec": {"default": 1, "type": "integer"}, "l": [1]},
           "outputs": ["a", "b"], "secrets": ["s"], "timeouts": {"step": 5},
           "steps": [{"click": "login.submit"},
                     {"click": {"target": "login.submit", "optional": True, "when": "vars.q != ''"}},
                     {"wait_for": {"target": "nav.main", "fail_on": {"login.error": "rejected"}}}]}
    assert errors(doc, schema) == []
    assert errors({**doc, "outputs": {"a": None, "b": {"type": "list"}}}, schema) == []


def test_steps_without_required_arguments_may_be_bare(schema, errors):
    bare = sorted(n for n, d in REGISTRY.items() if not any(f.is_required() for f in d.args.model_fields.values()))
    for name in bare:
        assert errors({**HEAD, "steps": [name, {name: None}]}, schema) == [], name


# ------------------------------------------------------------------------------- agreement with models
def test_every_registered_step_is_in_the_schema(schema):
    named = [next(iter(b["properties"])) for b in schema["$defs"]["step"]["oneOf"] if b.get("type") == "object"]
    assert sorted(named) == sorted(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_arguments_and_required_set_match_the_model(name, schema):
    model = REGISTRY[name].args
    obj = args_object(schema, name)
    written = written_args(model)  # by the key a flow writes: an alias (`else`) rather than the field (`else_`)
    assert set(obj["properties"]) == set(written)
    assert sorted(obj.get("required", [])) == sorted(k for k, f in written.items() if f.is_required())
    extra = model.model_config.get("extra")
    assert obj.get("additionalProperties") is (extra == "allow") or extra != "forbid"
    assert branch(schema, name)["required"] == [name]
    assert branch(schema, name)["additionalProperties"] is False


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_docs_shorthand_selectors_and_blocks_follow_the_registry(name, schema):
    sdef = REGISTRY[name]
    value = branch(schema, name)["properties"][name]
    obj = args_object(schema, name)
    if sdef.func.__doc__:
        assert value["description"].split()[:3] == sdef.func.__doc__.split()[:3]
    scalars = [f for f in value.get("anyOf", []) if f.get("type") not in ("object", "null")]
    if sdef.args.primary is not None and obj["properties"][sdef.args.primary].get("type") != "object":
        assert len(scalars) == 1
    else:
        assert scalars == []
    for arg, marker in selector_fields(sdef.args).items():
        assert obj["properties"][arg]["description"].endswith(SELECTOR_KEYS_NOTE if marker.keys else SELECTOR_NOTE)
    for block in step_blocks(sdef):
        assert obj["properties"][block]["$ref"] == "#/$defs/steps"


def test_optional_selector_arguments_are_found():
    """`SelectorRef | None` hides the marker inside a union; the schema (and explain) still see it."""
    assert set(selector_fields(REGISTRY["totp"].args)) == {"target", "submit"}
    assert set(selector_fields(REGISTRY["assert_text"].args)) == {"target"}


def test_top_level_keys_match_flowdoc(schema):
    written = written_args(FlowDoc)
    assert set(schema["properties"]) == set(written)
    assert sorted(schema["required"]) == sorted(k for k, f in written.items() if f.is_required())
    assert schema["additionalProperties"] is False
    assert "steps" in flow_blocks()
    for block in flow_blocks():
        assert schema["properties"][block]["$ref"] == "#/$defs/steps"
    assert schema["properties"]["steps"]["minItems"] == 1
    assert schema["$defs"]["steps"] == {"type": "array", "items": {"$ref": "#/$defs/step"}}


def test_every_top_level_key_and_argument_has_hover_text(schema):
    assert [k for k, v in schema["properties"].items() if not v.get("description")] == []
    for name in REGISTRY:
        assert branch(schema, name)["properties"][name].get("description"), name
