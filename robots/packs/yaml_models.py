"""Record models declared in YAML (`models/<pack>.yaml` of a folder pack), built into pydantic models with
`create_model`, so that they check scraped rows exactly as a Python pack's models do (robots.scrape.contracts):
a row that does not fit is scrape drift.

    order:                                   # the model `<pack>.order`
      description: one row of the orders table
      fields:
        id: {type: string, required: true, pattern: "^\\d+$"}
        customer: {type: string, required: true}
        status: {type: string, enum: [open, shipped, canceled]}
        total_cents: money                   # shorthand for {type: money}
        placed_on: date
        tags: {type: list, items: string}

The types are what robots' normalizers produce (robots/scrape/normalize.py, extract_table's field `type`s)."""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from robots.errors import FlowError, FlowIssue, suggest
from robots.flow.issues import describe
from robots.flow.yamlsrc import Located, load_located, read_source

DATE = r"^\d{4}-\d\d-\d\d$"
UTC_INSTANT = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"

#: type name -> (Python type, built-in pattern): text, integer, number and boolean cells; a date ('2025-03-14'),
#: an instant in UTC ('2025-03-14T19:05:00Z') and money (integer cents, as extract_table's `money` gives it)
SCALARS: dict[str, tuple[type, str | None]] = {
    "string": (str, None), "integer": (int, None), "number": (float, None), "boolean": (bool, None),
    "date": (str, DATE), "datetime": (str, UTC_INSTANT), "money": (int, None),
}  # fmt: skip
TYPES = [*SCALARS, "list"]
FIELD_KEYS = ("type", "required", "enum", "pattern", "items", "description")
MODEL_KEYS = ("fields", "description")
#: every row extract_table, extract_list and read_csv return carries its provenance; a model need not declare it
PROVENANCE = {"source_url": (str | None, None), "scraped_at": (str | None, Field(None, pattern=UTC_INSTANT))}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KIND = "a record model file"


class _Base(BaseModel):
    """What every YAML model shares with the Python ones (strict about unknown fields, frozen)."""

    model_config = ConfigDict(extra="forbid", frozen=True, regex_engine="python-re")


def load_models(path: Path, pack: str, shown: str | None = None) -> dict[str, type[BaseModel]]:
    """The record models of `path` by full name (`<pack>.<model>`). A file with any problem raises FlowError
    listing every problem, each with file:line:column and the model and field it is in."""
    shown = str(path) if shown is None else shown
    located, issues = load_located(read_source(path, shown, KIND), shown, KIND, empty_ok=True)
    if located is None:
        raise FlowError(issues or [FlowIssue(shown, None, None, "", "the file declares no record model")])
    if not isinstance(located.data, dict) or not located.data:
        raise FlowError([located.issue((), "", "a record model file is a mapping of model names to "
                                               "{fields: {...}}")])
    models: dict[str, type[BaseModel]] = {}
    for name, spec in located.data.items():
        built = _model(located, pack, str(name), spec, issues)
        if built is not None:
            models[f"{pack}.{name}"] = built
    if issues:
        raise FlowError(issues)
    return models


def _model(loc: Located, pack: str, name: str, spec: Any, issues: list[FlowIssue]) -> type[BaseModel] | None:
    if not _NAME.match(name):
        issues.append(loc.issue((name,), name, f"'{name}' is not a valid model name: use lower-case letters, "
                                               "digits and '_'", key=True))
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict) or not spec["fields"]:
        issues.append(loc.issue((name,), name, "a model is a mapping with `fields:` (field name -> type or "
                                               "{type, required, enum, pattern, items})"))
        return None
    for key in spec:
        if key not in MODEL_KEYS:
            issues.append(loc.issue((name, key), name, f"unknown key '{key}'{suggest(str(key), list(MODEL_KEYS))}; "
                                                       f"a model has {', '.join(MODEL_KEYS)}", key=True))
    before = len(issues)
    fields: dict[str, Any] = {}
    for fname, fspec in spec["fields"].items():
        built = _field(loc, (name, "fields", fname), f"{name}.fields.{fname}", str(fname), fspec, issues)
        if built is not None:
            fields[_attr(str(fname), len(fields))] = built
    declared = {str(f) for f in spec["fields"]}
    for fname, (annotation, default) in PROVENANCE.items():
        if fname not in declared:
            fields[fname] = (annotation, default)
    if len(issues) > before:
        return None
    title = "".join(part.capitalize() for part in f"{pack}_{name}".split("_"))
    return create_model(title, __base__=_Base, __doc__=spec.get("description") or None, **fields)


Bad = Callable[..., None]


def _field(loc: Located, path: tuple, where: str, fname: str, spec: Any,
           issues: list[FlowIssue]) -> tuple[Any, Any] | None:
    def bad(message: str, at: tuple = (), key: bool = False) -> None:
        issues.append(loc.issue(path + at, where + "".join(f".{a}" for a in at), message, key=key))

    if not _FIELD.match(fname):
        bad(f"'{fname}' is not a valid field name: use letters, digits and '_', not starting with a digit", key=True)
        return None
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        bad(f"expected a type ({', '.join(TYPES)}) or a mapping {{type, required, enum, pattern, items}}, got "
            f"{describe(spec)}")
        return None
    before = len(issues)
    for key in spec:
        if key not in FIELD_KEYS:
            bad(f"unknown key '{key}'{suggest(str(key), list(FIELD_KEYS))}; a field has {', '.join(FIELD_KEYS)}",
                (key,), key=True)
    kinds = _kinds(spec, bad)
    if kinds is None:
        return None
    kind, scalar = kinds
    if not isinstance(spec.get("required", False), bool):
        bad(f"expected true or false, got {describe(spec['required'])}", ("required",))
    pattern = _pattern(spec, scalar, bad)
    annotation = _enum(spec, kind, scalar, bad)
    if len(issues) > before:
        return None
    return _declared(fname, spec, kind, annotation, pattern)


def _kinds(spec: dict, bad: Bad) -> tuple[str, str] | None:
    """The field's type and the scalar type of its values (a list's items), or None after saying what is wrong."""
    kind = spec.get("type", "string")
    if kind not in TYPES:
        bad(f"unknown type {kind!r}{suggest(str(kind), TYPES)}; types: {', '.join(TYPES)}", ("type",))
        return None
    items = spec.get("items")
    if kind != "list":
        if items is not None:
            bad(f"`items` is for a field of type list, not {kind}", ("items",), key=True)
        return kind, kind
    items = items or "string"
    if items not in SCALARS:
        bad(f"unknown item type {items!r}{suggest(str(items), list(SCALARS))}; a list holds one of "
            f"{', '.join(SCALARS)}", ("items",))
        return None
    return kind, str(items)


def _pattern(spec: dict, scalar: str, bad: Bad) -> str | None:
    """The pattern the field's text must match: its own `pattern`, or its type's (date, datetime)."""
    py, builtin = SCALARS[scalar]
    pattern = spec.get("pattern")
    if pattern is None:
        return builtin
    if py is not str or builtin is not None:
        bad(f"`pattern` is for text (type string), not {scalar}", ("pattern",), key=True)
    elif not isinstance(pattern, str):
        bad(f"expected a regular expression, got {describe(pattern)}", ("pattern",))
    else:
        try:
            re.compile(pattern)
        except re.error as e:
            bad(f"not a valid regular expression ({e})", ("pattern",))
        return pattern
    return None


def _enum(spec: dict, kind: str, scalar: str, bad: Bad) -> Any:
    """The annotation of one value: its Python type, or the Literal of its `enum`."""
    py, builtin = SCALARS[scalar]
    enum = spec.get("enum")
    if enum is None:
        return py
    if kind in ("list", "boolean") or builtin is not None:
        bad(f"`enum` is for a string, integer, number or money field, not {kind}", ("enum",), key=True)
    elif not isinstance(enum, list) or not enum:
        bad(f"expected a list of the values the field may take, got {describe(enum)}", ("enum",))
    else:
        wrong = [v for v in enum if not _fits(py, v)]
        if not wrong:
            return Literal[tuple(enum)]
        bad(f"{describe(wrong[0])} is not of type {scalar}", ("enum", enum.index(wrong[0])))
    return py


def _declared(fname: str, spec: dict, kind: str, annotation: Any, pattern: str | None) -> tuple[Any, Any]:
    """The (annotation, Field) pair create_model takes: nullable with a None default unless required."""
    info: dict[str, Any] = {"alias": fname} if _attr(fname, 0) != fname else {}
    if spec.get("description"):
        info["description"] = str(spec["description"])
    if kind == "list":
        annotation = list[Annotated[annotation, Field(pattern=pattern)]] if pattern else list[annotation]
    elif pattern is not None:
        info["pattern"] = pattern
    if spec.get("required") is True:
        return annotation, Field(**info)
    return annotation | None, Field(None, **info)


def _fits(py: type, value: Any) -> bool:
    if py is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, py) and not (py is int and isinstance(value, bool))


_RESERVED = set(dir(BaseModel))


def _attr(fname: str, index: int) -> str:
    """The attribute a field is kept under: its own name, unless pydantic reserves it (`json`, `model_x`,
    `_private`, a keyword); then a stand-in, with the field's name as its alias (what rows carry and dumps show)."""
    if fname in _RESERVED or fname.startswith(("_", "model_")) or keyword.iskeyword(fname):
        return f"field_{index}_"
    return fname


