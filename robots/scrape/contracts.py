"""Output contracts: the record model a scraper's rows must fit. A misfit is scrape drift (ContractError),
named by field and raw value, distinct from a portal or a browser failure."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from robots.errors import ContractError

MODELS: dict[str, type[BaseModel]] = {}


def register_model(name: str, model: type[BaseModel]) -> None:
    MODELS[name] = model


def known_models() -> list[str]:
    _load_builtin()
    return sorted(MODELS)


def _load_builtin() -> None:
    import robots.packs.sera.models  # noqa: F401 - registers the Sera record models


def conform(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate rows against the named model; fields the page does not show become None."""
    _load_builtin()
    model = MODELS[name]
    out = []
    for n, row in enumerate(rows, 1):
        try:
            out.append(model.model_validate(row).model_dump(mode="json"))
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise ContractError(f"scrape drift: record {n} does not fit '{name}': field '{field}' "
                                f"{err['msg'].lower()} (got {err.get('input')!r})") from None
    return out
