"""Records: check a value that earlier steps composed (a detail page read in several parts) against a
registered record model, so that a page that changed shape is scrape drift, not silently wrong data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator

from robots.errors import ContractError
from robots.scrape import contracts
from robots.steps.base import StepArgs, step
from robots.steps.shapes import ANY, Shape, ShapeSource, list_of

if TYPE_CHECKING:
    from robots.steps.context import StepContext


class ConformArgs(StepArgs):
    example: ClassVar[str | None] = (
        "- conform:\n    id: customer\n    record: sera.customer_detail\n"
        "    value: {id: \"{{ vars.id }}\", name: \"{{ steps.name.output }}\", "
        "locations: \"{{ steps.locations.output }}\"}")
    record: str = Field(description="the registered record model, e.g. sera.customer_detail")
    value: Any = Field(description="a record (a mapping) or a list of records, usually composed with templates")

    @field_validator("record")
    @classmethod
    def _known(cls, v: str) -> str:
        return contracts.check_name(v)

    def output_shape(self, shapes: ShapeSource) -> Shape:
        one, given = shapes.record_model(self.record), shapes.value(self.value)
        return {"record": one, "list": list_of(one)}.get(given.kind, ANY)


@step("conform")
def conform(ctx: StepContext, args: ConformArgs) -> Any:
    """Check `value` (one record, or a list of them) against the record model `record`; a record that does not
    fit is scrape drift (ContractError naming the field and the raw value). Output: the checked value, with
    the fields the model knows and the page did not show set to null."""
    value = args.value
    if isinstance(value, list):
        return contracts.conform(args.record, value)
    if not isinstance(value, dict):
        raise ContractError(f"scrape drift: conform expected a record (a mapping) or a list of them for "
                            f"'{args.record}', got {type(value).__name__}")
    return contracts.conform(args.record, [value])[0]
