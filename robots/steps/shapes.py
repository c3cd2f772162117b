"""What a step's output looks like before it runs, as far as its arguments tell (`StepArgs.output_shape`): a record
model's fields, a field map's names, a called flow's outputs. `robots validate` checks the fields that templates read
from it (robots/flow/paths.py). An output the step cannot tell (a script's result, a record without a model) is ANY,
which accepts any field: nothing is guessed."""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel

Kind = Literal["any", "record", "list", "text", "number", "boolean", "nothing"]


@dataclass(frozen=True)
class Shape:
    """A value's shape: `record` (a mapping of known keys: `fields`), `list` (of `item`), a scalar, or `any`."""

    kind: Kind = "any"
    fields: Mapping[str, Shape] = field(default_factory=dict)
    item: Shape | None = None
    #: what it is, for messages ("a shop.order record")
    name: str = ""

    def union(self, other: Shape) -> Shape:
        """A value that is one or the other: the same shape, else ANY."""
        return self if self == other else ANY


ANY = Shape()
TEXT = Shape("text")
NUMBER = Shape("number")
BOOLEAN = Shape("boolean")
NOTHING = Shape("nothing")
#: the extras every scraped row carries (robots/steps/extract.py)
PROVENANCE = ("source_url", "scraped_at")


def record(fields: Mapping[str, Shape], name: str = "") -> Shape:
    return Shape("record", dict(fields), name=name)


def list_of(item: Shape) -> Shape:
    return Shape("list", item=item)


class ShapeSource(Protocol):
    """What a step's `output_shape` may ask of the flow it is in (robots/flow/paths.py answers)."""

    def value(self, value: Any) -> Shape:
        """The shape of an argument's value: a literal, or the value of its template."""

    def output_of(self, step_id: str) -> Shape:
        """The output shape of the step with this id in the same flow."""

    def flow_outputs(self, target: str) -> Shape:
        """A called flow's outputs (a record of its declared outputs)."""

    def record_model(self, name: str) -> Shape:
        """The shape of a registered record model's records (`shop.order`)."""


# ------------------------------------------------------------------------------------------ record models
@functools.lru_cache(maxsize=256)  # a project's YAML models are new classes each time they are read
def model_shape(model: type[BaseModel], name: str = "") -> Shape:
    """A pydantic model's records as `conform` dumps them (by alias); a model that allows extra keys is ANY."""
    return _model_shape(model, name, ())


def _model_shape(model: type[BaseModel], name: str, seen: tuple[type, ...]) -> Shape:
    if model in seen or model.model_config.get("extra") == "allow":
        return ANY
    fields = {(f.alias or n): _annotation_shape(f.annotation, (*seen, model)) for n, f in model.model_fields.items()}
    return record(fields, f"a {name} record" if name else f"a {model.__name__}")


def _annotation_shape(annotation: Any, seen: tuple[type, ...]) -> Shape:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _annotation_shape(typing.get_args(annotation)[0], seen)
    if origin in (typing.Union, types.UnionType):
        options = [_annotation_shape(a, seen) for a in typing.get_args(annotation) if a is not type(None)]
        return functools.reduce(Shape.union, options) if options else NOTHING
    if origin in (list, tuple, set, frozenset):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return list_of(_annotation_shape(args[0], seen) if len(args) == 1 else ANY)
    if origin is Literal:
        values = typing.get_args(annotation)
        return TEXT if all(isinstance(v, str) for v in values) else ANY
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return _model_shape(annotation, "", seen)
        if annotation is bool:
            return BOOLEAN
        if issubclass(annotation, int | float):
            return NUMBER
        if issubclass(annotation, str):
            return TEXT
    return ANY


# --------------------------------------------------------------------------------------------- field maps
def field_map_shape(fields: Mapping[str, Any], what: str = "a row") -> Shape:
    """The records a field map gives (extract_table, extract_detail, extract_list, read_csv): its names (a dotted
    name is a nested mapping), the label shown beside a field (`raw`, an enum's `raw_<name>`), `each` lists of
    sub-records, and the provenance every row carries. The values' own shapes are left open."""
    tree: dict[str, Any] = {k: TEXT for k in PROVENANCE}
    for name, spec in fields.items():
        *parents, leaf = name.split(".")
        target = tree
        for part in parents:
            nested = target.get(part)
            target = target.setdefault(part, {}) if not isinstance(nested, Shape) else {}
        sub = getattr(spec, "fields", None)
        if getattr(spec, "each", None) is not None and sub is not None:
            target[leaf] = list_of(field_map_shape(sub, "a sub-item"))
        elif getattr(spec, "list", False) or getattr(spec, "split", None) is not None:
            target[leaf] = list_of(ANY)
        else:
            target[leaf] = ANY
        if getattr(spec, "raw", None):  # the label shown, beside the value (robots.scrape.tables.store_value)
            target[spec.raw] = ANY
        elif getattr(spec, "type", None) == "enum":
            target[f"raw_{leaf}"] = ANY
    return _tree_shape(tree, what)


def _tree_shape(tree: dict[str, Any], what: str) -> Shape:
    return record({k: v if isinstance(v, Shape) else _tree_shape(v, "a mapping") for k, v in tree.items()}, what)
