"""The step registry: `@step("fill")` binds a name to a function and its typed argument model."""

from __future__ import annotations

import contextlib
import functools
import typing
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from robots.steps.shapes import ANY, Shape, ShapeSource

if TYPE_CHECKING:
    from robots.steps.context import StepContext


class _SelectorMarker:
    """Marks an argument whose value (or, for a mapping, whose keys) name selectors."""

    def __init__(self, keys: bool = False):
        self.keys = keys


SelectorRef = Annotated[str, _SelectorMarker()]
SelectorKeys = Annotated[dict[str, str], _SelectorMarker(keys=True)]


class StepArgs(BaseModel):
    """Options every step takes, besides its own arguments."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="name of the step's output")
    name: str | None = Field(None, description="a label for logs and reports")
    timeout: float | None = Field(None, gt=0, description="seconds this step may wait; default: the flow's")
    optional: bool = Field(False, description="a failure of this step is recorded (as skipped) and the run goes on")
    on_error: Literal["fail", "continue", "retry"] = Field(
        "fail", description="on a failure: fail the run, continue (like optional), or retry a technical "
                            "failure (`retries` times, with a growing pause)")
    retries: int = Field(2, ge=1, le=10, description="with on_error: retry, how many more attempts")
    write: bool = Field(False, description="this step submits data to the portal: --dry-run does not run it and "
                                           "reports the values its form was given")
    idempotent: bool = Field(False, description="repeating this write (or this block, whose steps check whether "
                                                "their writes went through) is harmless: it is run again after the "
                                                "portal ended the session during it")
    verifies: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                                 description="the id of a write step that this step checks (a read-back or a "
                                             "post-condition probe that reads only the page): --dry-run skips this "
                                             "step when it did not submit that write")
    setup: bool = Field(False, description="a top-level step that later steps need (it opens or sets what they "
                                           "work on): --from-step runs it even when it comes before the first "
                                           "step selected, as it runs the sign-in")
    when: str | None = Field(None, description="a condition; the step runs only when it is true, e.g. "
                                               "`vars.q != ''` (a bare expression or a {{ template }})")

    @model_validator(mode="before")
    @classmethod
    def _expressions_as_templates(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in cls.expressions:
                v = data.get(name)
                if isinstance(v, str) and "{{" not in v and "{%" not in v:
                    data = {**data, name: "{{ " + v + " }}"}
        return data

    #: argument that a scalar shorthand (`- click: login.submit`) fills
    primary: ClassVar[str | None] = None
    #: an example for the step reference (`robots steps`); derived from the model when None
    example: ClassVar[str | None] = None
    #: arguments the step evaluates itself, when it needs them (a condition, a list to loop over): written
    #: bare (`vars.q != ''`) or as a {{ template }}; the engine does not render them beforehand
    expressions: ClassVar[tuple[str, ...]] = ("when",)

    def declares_vars(self) -> list[str]:
        """Names this step sets in `vars` (readable by later templates like declared vars)."""
        return []

    def entered(self) -> tuple[str, Any] | None:
        """(selector, value) when this step enters a value into a form control (reported by --dry-run with the write
        that would submit the form), else None."""
        return None

    def output_shape(self, shapes: ShapeSource) -> Shape:
        """What this step's output looks like before it runs (robots.steps.shapes), for `robots validate` to check
        the fields templates read from it; ANY (any field) when the arguments cannot tell."""
        return ANY

    def check_in_flow(self, *, outputs: dict[str, Any]) -> list[tuple[str, str, str]]:
        """Checks that need the whole flow: (argument, key, problem) for each problem found."""
        return []

    def selector_refs(self) -> list[tuple[str, str]]:
        """(argument name, selector reference) for every selector this step uses."""
        refs = []
        for fname, marker in _selector_fields(type(self)):
            value = getattr(self, fname)
            if value is None:
                continue
            if marker.keys or isinstance(value, list | tuple):  # a mapping's keys, or a list of selectors
                refs += [(fname, k) for k in value]
            else:
                refs.append((fname, value))
        return refs


@functools.cache
def _selector_fields(args: type[StepArgs]) -> tuple[tuple[str, _SelectorMarker], ...]:
    """The fields of a step's arguments that hold selectors, with their markers (read once per class)."""
    found = ((fname, selector_marker(finfo)) for fname, finfo in args.model_fields.items())
    return tuple((fname, marker) for fname, marker in found if marker is not None)


def selector_marker(finfo: Any) -> _SelectorMarker | None:
    """The selector marker of a field, also when it sits inside a union (`SelectorRef | None`)."""
    found = next((m for m in finfo.metadata if isinstance(m, _SelectorMarker)), None)
    return found or _marker_in(finfo.annotation)


def _marker_in(annotation: Any) -> _SelectorMarker | None:
    if typing.get_origin(annotation) is typing.Annotated:
        hit = next((m for m in annotation.__metadata__ if isinstance(m, _SelectorMarker)), None)
        if hit is not None:
            return hit
    for arg in typing.get_args(annotation):
        hit = _marker_in(arg)
        if hit is not None:
            return hit
    return None


@dataclass(frozen=True)
class StepDef:
    """A registered step and the facts the runner acts on (declared where the step is registered)."""

    name: str
    args: type[StepArgs]
    func: Callable[[StepContext, Any], Any]
    blocks: tuple[str, ...] = ()  # arguments that hold nested step lists, e.g. ("steps", "else")
    writes: bool = False  # submits data to the portal (skipped by --dry-run)
    #: may land the browser on another page: the runner looks afterwards whether it is the portal's throttled page
    navigates: bool = False
    #: opens its own page when run again (after a 429 or a lost session), instead of the runner reloading or
    #: reopening the page it began on
    reopens: bool = False
    #: repeats its steps until the portal shows what they wrote (repeat_until): --dry-run ends it at the round whose
    #: write it did not submit (robots.run.dryrun)
    checks_writes: bool = False
    #: where the step comes from, for messages: "module robots.steps.forms", "entry point 'x' (...) of group ..."
    origin: str = ""

    @property
    def container(self) -> bool:
        return bool(self.blocks)

    def unrepeatable(self, args: StepArgs) -> bool:
        """Whether a call with these options submits to the portal (`write: true` or a write step) and is not
        marked idempotent: it is never run a second time."""
        return (args.write or self.writes) and not args.idempotent

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()


REGISTRY: dict[str, StepDef] = {}
# Who is registering steps now (robots.steps.plugins names an entry point or a pack); else the function's module.
_ORIGIN: ContextVar[str | None] = ContextVar("robots_step_origin", default=None)


@contextlib.contextmanager
def registering(origin: str) -> Iterator[None]:
    """Steps registered inside are said to come from `origin` (in a collision's message)."""
    token = _ORIGIN.set(origin)
    try:
        yield
    finally:
        _ORIGIN.reset(token)


def step(name: str, *, container: bool = False, blocks: tuple[str, ...] = (), writes: bool = False,
         navigates: bool = False, reopens: bool = False, checks_writes: bool = False) -> Callable[[Callable], Callable]:
    """Register a step function `func(ctx, args)`; its argument model is the annotation of `args`.
    `blocks` names the arguments that hold nested steps (`container=True` means `("steps",)`); `writes`,
    `navigates`, `reopens` and `checks_writes` are the step's facts (see StepDef)."""
    if container and not blocks:
        blocks = ("steps",)

    def register(func: Callable) -> Callable:
        import inspect

        params = list(inspect.signature(func).parameters)
        model = func.__annotations__.get(params[1]) if len(params) > 1 else None
        if isinstance(model, str):  # postponed annotations: only the argument model needs resolving
            model = eval(model, func.__globals__)  # noqa: S307 - a name from the module defining the step
        if not (isinstance(model, type) and issubclass(model, StepArgs)):
            raise TypeError(f"step {name!r}: the second parameter must be annotated with a StepArgs model")
        origin = _ORIGIN.get() or f"module {func.__module__}"
        if name in REGISTRY:
            from robots.errors import ConfigError

            raise ConfigError(f"step '{name}' of {origin} collides with the step '{name}' of "
                              f"{REGISTRY[name].origin}: a step name can be registered once; rename one of them")
        REGISTRY[name] = StepDef(name, model, func, blocks=blocks, writes=writes, navigates=navigates,
                                 reopens=reopens, checks_writes=checks_writes, origin=origin)
        return func

    return register


