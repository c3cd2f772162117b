"""Form and interaction steps: typing, clicking, choosing, keys, files, modals."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, model_validator

from robots.errors import ElementNotFound, InputError, PortalFailed
from robots.steps.base import SelectorRef, StepArgs, step
from robots.steps.shapes import NUMBER, TEXT, Shape, ShapeSource, record

if TYPE_CHECKING:
    from robots.steps.context import StepContext

class FillArgs(StepArgs):
    target: SelectorRef
    value: str
    clear: bool = True

    def entered(self) -> tuple[str, Any] | None:
        return self.target, self.value


@step("fill")
def fill(ctx: StepContext, args: FillArgs) -> None:
    """Type a value into a field (cleared first unless `clear: false`)."""
    ctx.browser.fill(ctx.selector(args.target), args.value, ctx.timeout, clear=args.clear)


class ClickArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef


@step("click", navigates=True)
def click(ctx: StepContext, args: ClickArgs) -> None:
    """Click an element once it is visible and enabled."""
    ctx.browser.click(ctx.selector(args.target), ctx.timeout)


class TargetArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef


class ClearArgs(TargetArgs):
    def entered(self) -> tuple[str, Any] | None:
        return self.target, ""


@step("clear")
def clear(ctx: StepContext, args: ClearArgs) -> None:
    """Empty a text field."""
    ctx.browser.act(ctx.selector(args.target), ctx.timeout, "clearing", lambda el: el.clear())


class SelectArgs(StepArgs):
    example: ClassVar[str | None] = "- select: {target: customers.type_filter, option: Commercial}"
    target: SelectorRef
    option: str | None = Field(None, description="the visible text of the option")
    value: str | None = Field(None, description="the option's value attribute (instead of `option`)")

    @model_validator(mode="after")
    def _one(self) -> SelectArgs:
        if (self.option is None) == (self.value is None):
            raise ValueError("give exactly one of 'option' (visible text) or 'value'")
        return self

    def entered(self) -> tuple[str, Any] | None:
        return self.target, self.option if self.option is not None else self.value


@step("select")
def select(ctx: StepContext, args: SelectArgs) -> None:
    """Choose an option of a <select> by its visible text (`option`) or its `value`."""
    ctx.browser.select_option(ctx.selector(args.target), ctx.timeout, label=args.option, value=args.value)


class CheckArgs(TargetArgs):
    def entered(self) -> tuple[str, Any] | None:
        return self.target, True


class UncheckArgs(TargetArgs):
    def entered(self) -> tuple[str, Any] | None:
        return self.target, False


@step("check")
def check(ctx: StepContext, args: CheckArgs) -> None:
    """Tick a checkbox (or choose a radio button); nothing happens if it already is."""
    ctx.browser.set_checked(ctx.selector(args.target), ctx.timeout, True)


@step("uncheck")
def uncheck(ctx: StepContext, args: UncheckArgs) -> None:
    """Untick a checkbox; nothing happens if it already is unticked."""
    ctx.browser.set_checked(ctx.selector(args.target), ctx.timeout, False)


@step("hover")
def hover(ctx: StepContext, args: TargetArgs) -> None:
    """Move the mouse over an element (menus that open on hover)."""
    ctx.browser.hover(ctx.selector(args.target), ctx.timeout)


class PressArgs(StepArgs):
    primary: ClassVar[str | None] = "key"
    key: str = Field(description="a character, or a key name: Enter, Tab, Escape, Arrow_Down, ...")
    target: SelectorRef | None = Field(None, description="the element to send it to; default: the focused one")


@step("press", navigates=True)
def press(ctx: StepContext, args: PressArgs) -> None:
    """Press a key, in an element or wherever the focus is."""
    ctx.browser.press(args.key, ctx.selector(args.target) if args.target else None, ctx.timeout)


class UploadArgs(StepArgs):
    target: SelectorRef = Field(description="the <input type=file>")
    file: str = Field(description="path of the file, relative to the working folder or absolute")

    def entered(self) -> tuple[str, Any] | None:
        return self.target, self.file

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return record({"path": TEXT, "size": NUMBER, "sha256": TEXT}, "the file sent")


@step("upload")
def upload(ctx: StepContext, args: UploadArgs) -> dict[str, object]:
    """Choose a file for a file input. Output: {path, size, sha256} of the file sent."""
    path = Path(args.file).expanduser().resolve()
    if not path.is_file():
        raise InputError(f"upload: no such file {args.file!r}")
    ctx.browser.upload(ctx.selector(args.target), str(path), ctx.timeout)
    data = path.read_bytes()
    return {"path": str(path), "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@step("scroll_into_view")
def scroll_into_view(ctx: StepContext, args: TargetArgs) -> None:
    """Scroll until the element is in the middle of the window."""
    ctx.browser.scroll_into_view(ctx.selector(args.target), ctx.timeout)


class DismissArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef = Field(description="the close button of the modal or banner")
    wait: float = Field(1.0, ge=0, description="seconds to give it to appear")


@step("dismiss_if_present")
def dismiss_if_present(ctx: StepContext, args: DismissArgs) -> bool:
    """Click a modal's or banner's close control if it shows up within `wait` seconds; go on either way.
    Output: whether something was dismissed."""
    sel = ctx.selector(args.target)
    try:
        ctx.browser.find(sel, args.wait, "clickable")
    except (ElementNotFound, PortalFailed):  # nothing to dismiss (on the portal's error page the next step says so)
        return False
    ctx.browser.click(sel, ctx.timeout)
    return True
