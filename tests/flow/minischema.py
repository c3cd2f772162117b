"""A small JSON Schema checker and validator for exactly the keywords the flow schema uses.

The `jsonschema` package is not a dependency; this covers the subset that `robots.flow.schema` emits
(pydantic's output plus our own), and `check_schema` fails on any keyword outside that subset, so a
schema that grows a new keyword is noticed here rather than silently ignored."""

from __future__ import annotations

import re
from typing import Any

ANNOTATIONS = {"$schema", "$defs", "title", "description", "default", "examples"}
ASSERTIONS = {"$ref", "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
              "anyOf", "oneOf", "allOf", "enum", "const", "pattern", "minimum", "maximum", "exclusiveMinimum",
              "exclusiveMaximum", "minLength", "maxLength"}
TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}


def check_schema(schema: dict[str, Any]) -> list[str]:
    """Structural problems of a schema: unknown keywords, dangling refs, malformed keyword values."""
    problems: list[str] = []
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        problems.append("$schema: not the 2020-12 dialect")
    defs = schema.get("$defs", {})

    def visit(node: Any, where: str) -> None:
        if isinstance(node, bool):
            return
        if not isinstance(node, dict):
            problems.append(f"{where}: a schema must be an object or a boolean, got {type(node).__name__}")
            return
        for key, value in node.items():
            at = f"{where}/{key}"
            if key not in ANNOTATIONS | ASSERTIONS:
                problems.append(f"{at}: unknown keyword")
            elif key == "$ref":
                if not (isinstance(value, str) and value.startswith("#/$defs/")
                        and value.removeprefix("#/$defs/") in defs):
                    problems.append(f"{at}: dangling reference {value!r}")
            elif key == "type":
                types = value if isinstance(value, list) else [value]
                if not types or any(t not in TYPES for t in types):
                    problems.append(f"{at}: bad type {value!r}")
            elif key in ("properties", "$defs"):
                if not isinstance(value, dict):
                    problems.append(f"{at}: must be an object")
                else:
                    for name, sub in value.items():
                        visit(sub, f"{at}/{name}")
            elif key == "required":
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)
                        and len(set(value)) == len(value)):
                    problems.append(f"{at}: must be a list of distinct names")
                elif node.get("additionalProperties") is False:
                    missing = set(value) - set(node.get("properties", {}))
                    if missing:
                        problems.append(f"{at}: required but not allowed: {sorted(missing)}")
            elif key in ("additionalProperties", "items"):
                visit(value, at)
            elif key in ("anyOf", "oneOf", "allOf"):
                if not (isinstance(value, list) and value):
                    problems.append(f"{at}: must be a non-empty list")
                else:
                    for i, sub in enumerate(value):
                        visit(sub, f"{at}/{i}")
            elif key == "enum":
                if not (isinstance(value, list) and value):
                    problems.append(f"{at}: must be a non-empty list")
            elif key == "pattern":
                try:
                    re.compile(value)
                except (re.error, TypeError):
                    problems.append(f"{at}: not a regular expression")
            elif key in ("minItems", "maxItems", "minLength", "maxLength"):
                if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                    problems.append(f"{at}: must be a non-negative integer")
            elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                if not (isinstance(value, int | float) and not isinstance(value, bool)):
                    problems.append(f"{at}: must be a number")
            elif key in ("title", "description") and not isinstance(value, str):
                problems.append(f"{at}: must be a string")

    visit(schema, "#")
    return problems


def _is_type(value: Any, t: str) -> bool:
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise AssertionError(t)


def errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Why `instance` does not validate against `schema` (empty: it does)."""
    defs = schema.get("$defs", {})

    def check(value: Any, s: Any, where: str) -> list[str]:
        if s is True:
            return []
        if s is False:
            return [f"{where}: not allowed"]
        out: list[str] = []
        if "$ref" in s:
            out += check(value, defs[s["$ref"].removeprefix("#/$defs/")], where)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(_is_type(value, t) for t in types):
                return out + [f"{where}: expected {' or '.join(types)}, got {value!r}"]
        if "enum" in s and value not in s["enum"]:
            out.append(f"{where}: {value!r} is not one of {s['enum']}")
        if "const" in s and value != s["const"]:
            out.append(f"{where}: expected {s['const']!r}")
        if isinstance(value, str):
            if "pattern" in s and not re.search(s["pattern"], value):
                out.append(f"{where}: {value!r} does not match {s['pattern']}")
            if len(value) < s.get("minLength", 0) or len(value) > s.get("maxLength", len(value)):
                out.append(f"{where}: bad length")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in s and value < s["minimum"] or "maximum" in s and value > s["maximum"]:
                out.append(f"{where}: {value} out of range")
            if ("exclusiveMinimum" in s and value <= s["exclusiveMinimum"]
                    or "exclusiveMaximum" in s and value >= s["exclusiveMaximum"]):
                out.append(f"{where}: {value} out of range")
        if isinstance(value, list):
            if len(value) < s.get("minItems", 0) or len(value) > s.get("maxItems", len(value)):
                out.append(f"{where}: {len(value)} items")
            if "items" in s:
                for i, v in enumerate(value):
                    out += check(v, s["items"], f"{where}[{i}]")
        if isinstance(value, dict):
            props = s.get("properties", {})
            for name in s.get("required", []):
                if name not in value:
                    out.append(f"{where}: missing {name!r}")
            for k, v in value.items():
                if k in props:
                    out += check(v, props[k], f"{where}.{k}")
                elif "additionalProperties" in s:
                    out += check(v, s["additionalProperties"], f"{where}.{k}")
        for sub in s.get("allOf", []):
            out += check(value, sub, where)
        if "anyOf" in s:
            results = [check(value, sub, where) for sub in s["anyOf"]]
            if all(results):
                out.append(f"{where}: matches none of anyOf ({'; '.join(r[0] for r in results)})")
        if "oneOf" in s:
            results = [check(value, sub, where) for sub in s["oneOf"]]
            n = sum(1 for r in results if not r)
            if n != 1:
                out.append(f"{where}: matches {n} of oneOf, expected exactly 1")
        return out

    return check(instance, schema, "$")
