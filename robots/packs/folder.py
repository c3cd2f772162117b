"""Folder packs: a portal added with YAML alone. A project folder holds, for the portal `<name>`:

    portals/<name>.yaml      the profile (docs/CONTRACTS.md C1): url, tenant, time_zone, session, throttle
    flows/<name>/            its flows (`portal: <name>`)
    selectors/<name>/        its selector catalogs, one file per page
    models/<name>.yaml       its record models (robots.packs.yaml_models), `record: <name>.<model>` in flows

Each file is looked for from the flow's folder upwards (the folder and up to five above it), the way a flow's
selector catalogs are, so a flow runs the same from any working folder. A project file of an installed pack's
name overlays that pack (its profile keys win, its models come first)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from robots.errors import ConfigError
from robots.flow.yamlsrc import load_data

#: how many folders are looked in: the flow's own and five above it
LEVELS = 6

# Models read from a file, by resolved path, kept while the file is unchanged (mtime and size).
_MODELS: dict[Path, tuple[tuple[int, int], dict[str, type[BaseModel]]]] = {}


def candidates(near: Path | None, relative: str) -> list[Path]:
    """The paths `relative` is looked for at, nearest first."""
    if near is None:
        return []
    here = Path(os.path.abspath(near))
    return [folder / relative for folder in [here, *here.parents][:LEVELS]]


def find_file(near: Path | None, relative: str) -> tuple[Path | None, list[Path]]:
    """The nearest `relative` file above `near`, and every path looked at (for a "not found" message)."""
    looked = candidates(near, relative)
    return next((p for p in looked if p.is_file()), None), looked


def profile(name: str, near: Path | None) -> tuple[Path | None, dict[str, Any], list[Path]]:
    """A project's `portals/<name>.yaml`: (the file or None, its profile, the paths looked at)."""
    found, looked = find_file(near, f"portals/{name}.yaml")
    if found is None:
        return None, {}, looked
    data = load_data(found, "a portal profile") or {}  # bounded like a flow (FlowError)
    if not isinstance(data, dict):
        raise ConfigError(f"{found}: a portal profile must be a mapping")
    return found, data, looked


def models(name: str, near: Path | None) -> tuple[Path | None, dict[str, type[BaseModel]], list[Path]]:
    """The record models of a project's `models/<name>.yaml`: (the file or None, its models, paths looked at).
    A file is read and built once while it stays unchanged."""
    found, looked = find_file(near, f"models/{name}.yaml")
    if found is None:
        return None, {}, looked
    from robots.packs.yaml_models import load_models

    key = found.resolve()
    st = key.stat()
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _MODELS.get(key)
    if cached is None or cached[0] != stamp:
        cached = (stamp, load_models(found, name))
        _MODELS[key] = cached
    return found, cached[1], looked


def folder_of(name: str, near: Path | None, kind: str) -> Path | None:
    """A project's `flows/<name>/` or `selectors/<name>/` folder (kind: flows or selectors), nearest first."""
    return next((p for p in candidates(near, f"{kind}/{name}") if p.is_dir()), None)
