"""Form and interaction steps: typing, clicking, choosing, keys, files, modals."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator, model_validator

from robots.browser import keys
from robots.errors import ElementNotFound, InputError, PortalFailed
from robots.steps.base import SelectorRef, StepArgs, step
from robots.steps.shapes import NUMBER, TEXT, Shape, ShapeSource, record

if TYPE_CHECKING:
    from robots.steps.context import StepContext

class FillArgs(StepArgs):
    example: ClassVar[str | None] = '- fill: {target: customer_form.city, value: "{{ vars.city }}"}'
    target: SelectorRef = Field(description="the field: an input, a textarea, a contenteditable, or an element with "
                                            "one inside (a component's wrapper)")
    value: str
    clear: bool = Field(True, description="select what the field holds and delete it first, as a person does")
    verify: bool = Field(True, description="read the value back and fail when the field holds something else; "
                                           "`false` for a field that reformats what is typed (a mask)")

    def entered(self) -> tuple[str, Any] | None:
        return self.target, self.value


@step("fill")
def fill(ctx: StepContext, args: FillArgs) -> None:
    """Type a value into a field as a person does: select what it holds and delete it (unless `clear: false`),
    type, then read the value back; a field that holds something else fails the step (`the field
    'customer.city' holds 'AustinRound Rock' after fill, not 'Round Rock'`), unless `verify: false`. The keys
    reach a framework's controlled input (React, Vue, Angular), which WebElement.clear() does not. Date, time,
    datetime-local, month, week, color and range inputs take their value as the browser's picker sets it
    (`2026-12-12`, `10:30`, `2026-12-12T10:30`); a contenteditable element is typed into like a field."""
    ctx.browser.fill(ctx.selector(args.target), args.value, ctx.timeout, clear=args.clear, verify=args.verify)


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
    """Empty a field as a person does (select all, delete), then check that it is empty."""
    ctx.browser.clear_field(ctx.selector(args.target), ctx.timeout)


class ChooseArgs(StepArgs):
    example: ClassVar[str | None] = "- choose: {target: customer_form.status, option: On Hold}"
    target: SelectorRef = Field(description="the <select>, radio group, combobox, autocomplete, listbox or menu "
                                            "button (or an element with one inside)")
    option: str | None = Field(None, description="the option's visible text, exactly (spaces collapsed)")
    value: str | None = Field(None, description="the option's value (`value` or `data-value`), instead of `option`")
    search: str | None = Field(None, description="an autocomplete: what to type to make the option show; "
                                                 "default: the option's text")

    @model_validator(mode="after")
    def _one(self) -> ChooseArgs:
        if (self.option is None) == (self.value is None):
            raise ValueError("give exactly one of 'option' (the visible text) or 'value'")
        return self

    def entered(self) -> tuple[str, Any] | None:
        return self.target, self.option if self.option is not None else self.value


@step("choose")
def choose(ctx: StepContext, args: ChooseArgs) -> str:
    """Choose an option by its exact visible text (`option`) or its `value`, in a native <select>, a radio group,
    an ARIA combobox or listbox (a component library's select whose options open in an overlay), an autocomplete
    (`search` is typed, then its options are waited for: they may come from the server) or a menu. The list is
    opened by a click; the option is clicked once it has stopped moving (an open animation) and nothing covers
    it; then the step checks that the field shows the choice. A missing option fails with the options seen.
    Output: the chosen option's text."""
    return ctx.browser.choose(ctx.selector(args.target), ctx.timeout, option=args.option, value=args.value,
                              search=args.search)


class SelectArgs(ChooseArgs):
    example: ClassVar[str | None] = "- select: {target: customers.type_filter, option: Commercial}"


@step("select")
def select(ctx: StepContext, args: SelectArgs) -> str:
    """The `choose` step under its older name (once for <select> only). Output: the chosen option's text."""
    return ctx.browser.choose(ctx.selector(args.target), ctx.timeout, option=args.option, value=args.value,
                              search=args.search)


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
    example: ClassVar[str | None] = "- press: {key: Control+A, target: customer_form.city}"
    key: str = Field(description="a character, a key name or a chord: `Enter`, `Control+A`, `Shift+Tab`")
    target: SelectorRef | None = Field(None, description="the element to send it to; default: the focused one")

    @field_validator("key")
    @classmethod
    def _known(cls, v: str) -> str:
        if "{{" not in v and "{%" not in v:
            try:
                keys.parse_chord(v)
            except keys.KeyNameError as e:  # the flow check's message quotes the key itself
                raise ValueError(e.problem) from None
        return v


@step("press", navigates=True)
def press(ctx: StepContext, args: PressArgs) -> None:
    """Press a key or a chord, in an element or wherever the focus is. A key is one character or one of these
    names (case, spaces and `_` do not matter; `Esc`, `Return`, `Up`, `Ctrl`, `Cmd` are understood too):
    Enter, Tab, Escape, Backspace, Delete, Insert, Space, ArrowUp, ArrowDown, ArrowLeft, ArrowRight, Home, End,
    PageUp, PageDown, F1-F12, Control, Shift, Alt, Meta. A chord holds modifiers (Control, Shift, Alt, Meta) while
    pressing its last key: `Control+A`, `Shift+Tab`, `Meta+Enter`, `Control+Shift+Z` (a letter's case follows
    Shift)."""
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
