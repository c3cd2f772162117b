"""Outputs: what a run returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from robots.errors import suggest
from robots.steps.base import StepArgs, step
from robots.steps.shapes import NOTHING, Shape, ShapeSource

if TYPE_CHECKING:
    from robots.steps.context import StepContext

class SetOutputArgs(StepArgs):
    primary: ClassVar[str | None] = None
    model_config = {**StepArgs.model_config, "extra": "allow"}

    def values(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return NOTHING

    def check_in_flow(self, *, outputs: dict[str, Any]) -> list[tuple[str, str, str]]:
        problems = []
        for key in self.values():
            if key not in outputs:
                hint = suggest(key, list(outputs)) or " (declare it under 'outputs:')"
                problems.append((key, "", f"output '{key}' is not declared{hint}"))
        return problems


@step("set_output")
def set_output(ctx: StepContext, args: SetOutputArgs) -> None:
    """Set one or more of the flow's declared outputs: `set_output: {customers: "{{ steps.pages.output }}"}`."""
    for name, value in args.values().items():
        ctx.set_output(name, value)
