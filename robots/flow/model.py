"""The parsed, validated form of a flow file. Built once by the loader, then trusted."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from robots.selectors_catalog import SelectorCatalog
from robots.steps.base import StepArgs

VarType = Literal["string", "integer", "number", "boolean", "list", "mapping"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VarSpec(_Strict):
    default: Any = None
    required: bool = False
    type: VarType | None = None
    description: str | None = None


class OutputSpec(_Strict):
    description: str | None = None
    type: VarType | None = None


class Timeouts(_Strict):
    step: float = Field(15.0, gt=0, description="seconds a step may wait for the page")
    page_load: float = Field(60.0, gt=0, description="seconds a navigation may take")


class FlowDoc(_Strict):
    """The top level of a flow file, as written."""

    #: the top-level keys that hold step lists
    step_blocks: ClassVar[tuple[str, ...]] = ("steps", "finally")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str | None = None
    version: str | int | None = None
    portal: str | None = Field(None, pattern=r"^[a-z0-9_-]+$")
    selectors: str | None = Field(None, description="folder of selector catalogs, relative to the flow file")
    vars: dict[str, Any] = {}
    secrets: list[str] = []
    env: list[str] = Field([], description="environment variables templates may read as env.NAME")
    outputs: dict[str, OutputSpec | None] | list[str] = {}
    timeouts: Timeouts = Field(default_factory=lambda: Timeouts())
    steps: list[Any] = Field(min_length=1)
    finally_: list[Any] = Field([], alias="finally", description="steps that always run at the end, "
                                                                "also after a failure (e.g. sign out)")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True)
class StepCall:
    kind: str
    args: StepArgs
    blocks: dict[str, tuple[StepCall, ...]]  # nested step lists by argument name ({} for a plain step)
    where: str  # the step's path in the document, e.g. "steps[4].paginate.steps[1]"
    line: int | None
    column: int | None

    @property
    def children(self) -> tuple[StepCall, ...]:
        """Every nested step, block after block."""
        return tuple(c for block in self.blocks.values() for c in block)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.args.name}" if self.args.name else self.kind


@dataclass(frozen=True)
class Flow:
    name: str
    description: str | None
    portal: str | None
    path: Path
    sha256: str
    vars: dict[str, VarSpec]
    secrets: tuple[str, ...]
    outputs: dict[str, OutputSpec]
    timeouts: Timeouts
    steps: tuple[StepCall, ...]
    catalog: SelectorCatalog = field(compare=False)
    env: tuple[str, ...] = ()
    #: flows this one calls (`call` steps), by their resolved path
    subflows: dict[str, Flow] = field(default_factory=dict, compare=False)
    finally_steps: tuple[StepCall, ...] = ()

    def all_secrets(self) -> tuple[str, ...]:
        """The secrets of this flow and of every flow it calls."""
        names = list(self.secrets)
        for sub in self.subflows.values():
            names += [n for n in sub.all_secrets() if n not in names]
        return tuple(names)

    def walk(self) -> list[StepCall]:
        """Every step call, depth first, in document order."""
        out: list[StepCall] = []

        def visit(calls: tuple[StepCall, ...]) -> None:
            for c in calls:
                out.append(c)
                visit(c.children)

        visit(self.steps)
        visit(self.finally_steps)
        return out
