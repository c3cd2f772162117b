"""Output contracts: the record model a scraper's rows must fit. A misfit is scrape drift (ContractError),
named by field and raw value, distinct from a portal or a browser failure.

A model is named `<pack>.<model>` (`shop.order`) and comes from the portal pack named by the prefix
(robots.packs: an installed pack's `models` hook, or a project's `models/<pack>.yaml` found from the flow's
folder upwards), loaded on first use. No portal is known here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from robots.errors import ConfigError, ContractError, suggest

#: models registered by name in this process (register_model); looked at before the packs
MODELS: dict[str, type[BaseModel]] = {}
# The folder of the flow being loaded or run: where a project's models/<pack>.yaml is looked for from.
_NEAR: ContextVar[Path | None] = ContextVar("robots_models_near", default=None)
# An installed pack's models, by pack name: its `models` hook is called once.
_INSTALLED: dict[str, dict[str, type[BaseModel]]] = {}


def register_model(name: str, model: type[BaseModel]) -> None:
    MODELS[name] = model


@contextlib.contextmanager
def models_near(folder: Path | None) -> Iterator[None]:
    """Inside, record models are also looked for in the project around `folder` (a flow's folder)."""
    token = _NEAR.set(folder)
    try:
        yield
    finally:
        _NEAR.reset(token)


def _pack_models(pack: str, near: Path | None) -> tuple[dict[str, type[BaseModel]], str]:
    """The models of the pack `pack` as seen from `near`, and where that pack was found (for messages).
    ConfigError when there is no such pack; FlowError for a project's model file with problems."""
    from robots import packs

    found = packs.find(pack, near)
    if found is packs.installed().get(pack):  # no project files: the installed pack's models, loaded once
        if pack not in _INSTALLED:
            _INSTALLED[pack] = dict(found.models()) if found.models is not None else {}
        return _INSTALLED[pack], found.origin
    return (dict(found.models()) if found.models is not None else {}), found.origin


def problem(name: str, near: Path | None = None) -> str | None:
    """Why `name` names no record model (None when it does): the pack it names, and the models that pack has."""
    if name in MODELS:
        return None
    near = near if near is not None else _NEAR.get()
    pack, dot, _ = name.partition(".")
    if not dot or not pack:
        return (f"unknown record model '{name}': a record model is named <pack>.<model>, the portal pack's name, "
                "a dot and the model's")
    try:
        models, origin = _pack_models(pack, near)
    except ConfigError as e:
        return f"unknown record model '{name}': {e}"
    if name in models:
        return None
    has = ", ".join(sorted(models)) or "no record models"
    return f"unknown record model '{name}'{suggest(name, sorted(models))}; the pack '{pack}' ({origin}) has: {has}"


def check_name(name: str) -> str:
    """A step argument's validator: the name itself, or a ValueError saying why it names no model."""
    why = problem(name)
    if why is not None:
        raise ValueError(why)
    return name


def model(name: str, near: Path | None = None) -> type[BaseModel]:
    """The record model `name`; ConfigError when there is none."""
    if name in MODELS:
        return MODELS[name]
    near = near if near is not None else _NEAR.get()
    why = problem(name, near)
    if why is not None:
        raise ConfigError(why)
    return _pack_models(name.partition(".")[0], near)[0][name]


def known_models(near: Path | None = None) -> list[str]:
    """Every record model a flow near `near` can name: those of the installed packs, the registered ones and
    (with `near`) the project's."""
    from robots import packs

    near = near if near is not None else _NEAR.get()
    names = set(MODELS)
    for pack in packs.available():
        names.update(_pack_models(pack, near)[0])
    return sorted(names)


def conform(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate rows against the named model; fields the page does not show become None."""
    record_model = model(name)
    out = []
    for n, row in enumerate(rows, 1):
        try:
            out.append(record_model.model_validate(row).model_dump(mode="json", by_alias=True))
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            msg = err["msg"][:1].lower() + err["msg"][1:]  # (a pattern or a value quoted in it keeps its case)
            raise ContractError(f"scrape drift: record {n} does not fit '{name}': field '{field}' "
                                f"{msg} (got {err.get('input')!r})") from None
    return out
