"""The parsed, validated form of a flow file. Built once by the loader, then trusted."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from robots.selectors_catalog import SelectorCatalog
from robots.steps.base import StepArgs

OutputType = Literal["string", "integer", "number", "boolean", "list", "mapping"]
#: a var may also be a `file`: a path of a file the flow reads (the CLI takes it as given; the API takes only an
#: upload id of the caller or a path under ROBOTS_API_FILES_DIR: robots.api.flows.FlowService.file_inputs)
VarType = Literal["string", "integer", "number", "boolean", "list", "mapping", "file"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VarSpec(_Strict):
    default: Any = None
    required: bool = False
    type: VarType | None = None
    choices: list[str | int | float | bool] | None = Field(
        None, min_length=1, description="the values the var may take besides its default; any other given value "
                                        "is an input error that names them, before a browser starts")
    description: str | None = None

    @model_validator(mode="after")
    def _choices_fit_the_type(self) -> VarSpec:
        if self.choices is None or self.type is None:
            return self
        if self.type in ("list", "mapping", "file"):
            raise ValueError(f"choices are for string, integer, number or boolean vars, not a {self.type}")
        kind = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}[self.type]
        boolean = self.type == "boolean"
        wrong = [c for c in self.choices if not isinstance(c, kind) or isinstance(c, bool) != boolean]
        if wrong:
            article = "an" if self.type == "integer" else "a"
            raise ValueError(f"every choice of {article} {self.type} var must be {article} {self.type}; "
                             f"{wrong[0]!r} is not")
        return self


class OutputSpec(_Strict):
    description: str | None = None
    type: OutputType | None = None


class Timeouts(_Strict):
    step: float = Field(15.0, gt=0, description="seconds a step may wait for the page")
    page_load: float = Field(60.0, gt=0, description="seconds a navigation may take")


class SecretSpec(_Strict):
    optional: bool = Field(False, description="a missing secret is an empty string instead of an error")
    description: str | None = None
    command: str | None = Field(None, description="a command that prints the value (e.g. `pass show acme/totp`), "
                                                  "tried after the environment and the vault")


class SessionSpec(_Strict):
    """This flow signs in: the runner keeps the session it leaves (encrypted, per portal and account),
    restores it in later runs instead of signing in again, and signs in again when the portal ends it."""

    account: str = Field(description="whose session this is (a template, e.g. {{ secrets.acme_username }})")
    password: str | None = Field(None, description="the password this sign-in uses (a template): once the portal "
                                                   "rejects it, it is not tried again automatically for a while")


def _chrome_flag(flag: str) -> str:
    if not flag.startswith("--") or len(flag) < 3 or any(c.isspace() for c in flag):
        raise ValueError("a Chrome flag starts with -- and has no spaces (like --lang=en-US)")
    return flag


ChromeFlag = Annotated[str, AfterValidator(_chrome_flag)]


class BrowserSpec(_Strict):
    """Which browser runs the flow and how; ROBOTS_BROWSER / ROBOTS_GRID_URL and --browser / --grid-url /
    --headed override it."""

    kind: Literal["chromium", "undetected", "remote"] = Field(
        "chromium", description="chromium (Selenium + Debian's Chromium), undetected (undetected-chromedriver) "
                                "or remote (a Selenium Grid 4 at grid_url)")
    headless: bool = Field(True, description="no window (--headed shows one, on Xvfb when there is no display)")
    grid_url: str | None = Field(None, pattern=r"^https?://\S+$",
                                 description="the Selenium Grid for kind remote, e.g. http://127.0.0.1:4444")
    window_size: str = Field("1366x900", pattern=r"^[1-9][0-9]{2,4}x[1-9][0-9]{2,4}$",
                             description="WIDTHxHEIGHT in pixels")
    page_load_timeout: float | None = Field(None, gt=0, description="seconds a navigation may take "
                                                                     "(default: timeouts.page_load)")
    arguments: list[ChromeFlag] = Field([], description="extra Chrome flags, each starting with --",
                                 json_schema_extra={"items": {"type": "string", "pattern": r"^--\S+$"}})
    binary: str | None = Field(None, description="Chrome's binary (for remote: its path on the Grid's node)")

    @field_validator("window_size", mode="before")
    @classmethod
    def _size_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value  # `window_size: 1366` gets the form's message

    @property
    def size(self) -> tuple[int, int]:
        width, height = self.window_size.split("x")
        return int(width), int(height)


class RetryPolicy(_Strict):
    """Technical failures (timeouts, missing elements, a crashed page) of any step are tried again."""

    attempts: int = Field(1, ge=0, le=10, description="how many more attempts a step gets after a technical failure")
    backoff: float = Field(1.0, ge=0, le=60, description="seconds before the first retry; doubled each time")


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
    secrets: list[str] | dict[str, SecretSpec | None] = Field(
        [], description="secret names (docs/CONTRACTS.md C4), or a mapping of names to {optional, description}")
    session: SessionSpec | None = None
    retry: RetryPolicy | None = None
    env: list[str] = Field([], description="environment variables templates may read as env.NAME")
    outputs: dict[str, OutputSpec | None] | list[str] = {}
    timeouts: Timeouts = Field(default_factory=lambda: Timeouts())
    browser: BrowserSpec | None = None
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
    #: secrets that may be missing (they are then empty strings)
    optional_secrets: tuple[str, ...] = ()
    secret_commands: dict[str, str] = field(default_factory=dict)
    session: SessionSpec | None = None
    retry: RetryPolicy | None = None
    browser: BrowserSpec | None = None
    #: what each output looks like (robots.steps.shapes.Shape), for the flows that call this one to check
    output_shapes: dict[str, Any] = field(default_factory=dict, compare=False)

    def all_secrets(self) -> tuple[str, ...]:
        """The secrets of this flow and of every flow it calls."""
        names = list(self.secrets)
        for sub in self.subflows.values():
            names += [n for n in sub.all_secrets() if n not in names]
        return tuple(names)

    def all_secret_commands(self) -> dict[str, str]:
        """The commands flows give for their secrets (the calling flow's wins)."""
        out: dict[str, str] = {}
        for sub in self.subflows.values():
            out.update(sub.all_secret_commands())
        out.update(self.secret_commands)
        return out

    def all_optional_secrets(self) -> tuple[str, ...]:
        """Secrets that may be missing: optional wherever a flow (this one or one it calls) names them."""
        required = self._required_secrets()
        return tuple(n for n in self.all_secrets() if n not in required)

    def _required_secrets(self) -> set[str]:
        names = {n for n in self.secrets if n not in self.optional_secrets}
        for sub in self.subflows.values():
            names |= sub._required_secrets()
        return names

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
