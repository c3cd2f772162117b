"""Steps for what no other step does: JavaScript run in the page (`script`), and the page's localStorage and
sessionStorage (`storage`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from robots.steps.base import StepArgs, step

if TYPE_CHECKING:
    from robots.steps.context import StepContext


class ScriptArgs(StepArgs):
    primary: ClassVar[str | None] = "code"
    example: ClassVar[str | None] = ('- script: {id: rows, code: "return document.querySelectorAll(arguments[0])'
                                     '.length", args: ["table tbody tr"]}')
    code: str = Field(description="the body of a JavaScript function: `return` what it gives back; its arguments "
                                  "are `arguments[0]`, `arguments[1]`, ...")
    args: list[Any] = Field(default_factory=list, description="values passed to it (text, numbers, lists, objects)")


@step("script", navigates=True)
def script(ctx: StepContext, args: ScriptArgs) -> Any:
    """Run JavaScript in the page, for what no step does. `code` is a function body called with `args`; a
    promise it returns is waited for (within the step's timeout). Output: what it returns, as JSON (text,
    numbers, true/false, null, lists, objects; a page element is refused: return its text or attributes). An
    exception fails the step quoting it: `script: the page's JavaScript threw TypeError: Cannot read properties
    of null (reading 'value') on https://...`."""
    return ctx.browser.run_script(args.code, list(args.args), ctx.timeout)


class StorageArgs(StepArgs):
    primary: ClassVar[str | None] = "key"
    example: ClassVar[str | None] = '- storage: {key: "settings.density", set: compact}'
    area: Literal["local", "session"] = Field("local", description="localStorage or sessionStorage")
    key: str | None = Field(None, description="the entry; omitted: every entry of the area (read only)")
    set: Any = Field(None, description="write this value (text as it is, anything else as JSON text)")
    remove: bool = Field(False, description="delete the entry")

    @model_validator(mode="after")
    def _one(self) -> StorageArgs:
        if self.set is not None and self.remove:
            raise ValueError("give at most one of 'set' or 'remove'")
        if self.key is None and (self.set is not None or self.remove):
            raise ValueError("'set' and 'remove' need a 'key'")
        return self


@step("storage")
def storage(ctx: StepContext, args: StorageArgs) -> Any:
    """Read, write or remove an entry of the current page's localStorage (`area: local`, the default) or
    sessionStorage (`area: session`): `key` alone reads it, with `set: VALUE` writes it, with `remove: true`
    deletes it; no `key` reads every entry. Open a page of the site first (storage belongs to its origin).
    Output: the entry's value (after a write: what it holds now; after a remove: what it held; null when
    absent), or {key: value} for every entry."""
    if args.set is not None:
        value = args.set if isinstance(args.set, str) else json.dumps(args.set)
        return ctx.browser.storage(args.area, args.key, "set", value)
    return ctx.browser.storage(args.area, args.key, "remove" if args.remove else "get")
