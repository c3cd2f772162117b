"""Optional parts and the extras that bring them: `pip install robots` is the core (flows, runs, records,
reports, the scheduler); `robots[api]` adds the HTTP API, `robots[sandbox]` the portal packs' sandboxes and
`robots[bdd]` the Gherkin runner (pyproject.toml). A command that needs a missing part says which extra to
install instead of failing on an import."""

from __future__ import annotations

import importlib

from robots.errors import ConfigError

#: what each extra brings: the modules imported to check it, in pyproject.toml's [project.optional-dependencies]
EXTRAS: dict[str, tuple[str, ...]] = {
    "api": ("fastapi", "uvicorn", "multipart", "fastapi_offline"),
    "sandbox": ("fastapi", "uvicorn", "faker"),
    "bdd": ("pytest_bdd",),
}


def require(extra: str, what: str) -> None:
    """Raise a ConfigError naming `extra` when one of its libraries is not installed; `what` is the part that needs
    it, as a user would name it ("robots serve", "robots bdd")."""
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            if (e.name or module).split(".")[0] != module:
                raise  # the library is there but broken: its own error says more
            raise ConfigError(f"{what} needs the '{module}' library, which comes with robots' {extra!r} extra: "
                              f"pip install 'robots[{extra}]'") from None
