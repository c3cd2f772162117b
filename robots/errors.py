"""Every exception the framework raises, in one hierarchy.

RobotsError
├── InputError                 bad input from the user: exit code 2 (nothing was started, or the step that found it
│   │                          stopped the run: recorded errored, failure kind `input`)
│   ├── FlowError              a flow file is invalid (carries every issue found, with file:line:col)
│   ├── VarsError              a run's vars are wrong (carries every problem found, var by var)
│   ├── SecretNotFound         a secret the flow declares is nowhere to be found
│   └── ConfigError            a setting, portal profile or option is wrong
├── BusinessFailure            the portal said no (login rejected, validation message): exit code 1
│   └── CredentialsRejected    the portal refused the password (not tried again for a while: lockout safety)
├── TechnicalError             the machinery failed (timeout, crash, drift): exit code 3, retryable
│   ├── BrowserError           Chrome or chromedriver could not start or died
│   ├── PortalUnreachable      the portal's host did not answer (DNS, refused, TLS)
│   ├── PortalFailed           the portal answered the page a step waits on with an HTTP error (4xx/5xx)
│   ├── StepTimeout            a wait ran out of time
│   ├── ElementNotFound        no candidate of a selector matched
│   ├── ScrapeError            a page did not have the shape a scraper expects (drift)
│   │   └── ContractError      a scraped record does not fit its declared model (scrape drift)
│   ├── PortalThrottled        the portal kept answering 429 Too many requests (failure kind `portal_throttled`)
│   └── InternalError          an exception that is no RobotsError (a bug in robots, a step or a plugin)
└── Interrupted                SIGINT/SIGTERM: exit code 130
    ├── Canceled               `robots runs cancel` (or the API) stopped the run: recorded canceled, exit 130
    └── RunTimedOut            the run went over its max_runtime: recorded errored (technical), evidence kept

An error raised by a step (or by what the step called) is located by the runner (robots.run.lifecycle): `location`
names the flow file, the line and the step path of the innermost step it came from, and `failure_kind` is its class
(business, technical, input, scrape_drift, portal_throttled), both kept in the run record.

The library raises; only the CLI turns errors into text and exit codes (docs/STYLE.md rule 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Location:
    """Where in the flows a run's error came from: the flow file (as the user named it, or relative to the working
    folder when inside it), the line of the step and its path (`steps[2].for_each.steps[0].click`); line and step
    are None for an error of the run itself (ending it, the declared outputs)."""

    file: str
    line: int | None = None
    step: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.step}" if self.step else where


class RobotsError(Exception):
    """Base of every error raised by robots."""

    exit_code: ClassVar[int] = 3
    failure_kind: ClassVar[str | None] = "technical"
    #: set by the runner when a step raised it (the innermost step): see Location
    location: Location | None = None


class InputError(RobotsError):
    """The user's input is invalid: nothing was started, or the step that found it (a file it was given that is not
    there, an argument its template rendered to the wrong kind) stopped the run."""

    exit_code = 2
    failure_kind = "input"


@dataclass(frozen=True)
class FlowIssue:
    """One problem in a flow file, located as precisely as the YAML allows."""

    file: str
    line: int | None
    column: int | None
    where: str
    message: str

    def __str__(self) -> str:
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}:{self.column or 1}"
        where = f"{self.where}: " if self.where else ""
        return f"{loc}: {where}{self.message}"


class FlowError(InputError):
    """A flow (or a selector catalog it uses) is invalid. `issues` lists every problem found."""

    def __init__(self, issues: list[FlowIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    @classmethod
    def single(cls, file: str, message: str) -> FlowError:
        return cls([FlowIssue(file, None, None, "", message)])


@dataclass(frozen=True)
class VarProblem:
    """One thing wrong with a run's vars: the var, what is wrong (words every front end can show) and how to fix it
    on the command line (`; pass --var email=VALUE`: the CLI shows it, the API and schedule files do not)."""

    var: str
    message: str
    hint: str = ""


class VarsError(InputError):
    """A run's vars are wrong (unknown, missing, not of the declared type, not one of the choices): every problem
    found at once, before anything starts. `source`: the flow file; `problems`: one per var."""

    def __init__(self, source: str, problems: list[VarProblem]):
        self.source = source
        self.problems = list(problems)
        if len(self.problems) == 1:
            text = f"{source}: {self.problems[0].message}{self.problems[0].hint}"
        else:
            text = f"{source}: {len(self.problems)} problems with the vars:" + "".join(
                f"\n  {p.message}{p.hint}" for p in self.problems)
        super().__init__(text)

    def words(self) -> str:
        """The problems without the flow's path and the command-line hints (the API's and a schedule's words)."""
        if len(self.problems) == 1:
            return self.problems[0].message
        return f"{len(self.problems)} problems with the vars: " + "; ".join(p.message for p in self.problems)


class ConfigError(InputError):
    """A setting, a portal profile or a command-line option is wrong."""


class SecretNotFound(InputError):
    """A secret named by the flow was not found in any of the places looked in."""


class BusinessFailure(RobotsError):
    """The portal refused what the flow asked for: a business outcome, never retried."""

    exit_code = 1
    failure_kind = "business"


class CredentialsRejected(BusinessFailure):
    """The portal refused the username or password (or the account is locked)."""


class TechnicalError(RobotsError):
    """Something in the machinery failed; a retry may help."""


class BrowserError(TechnicalError):
    """Chrome or chromedriver could not be started, or stopped answering."""


class PortalUnreachable(TechnicalError):
    """The browser could not reach the portal at all (name not resolved, connection refused, TLS)."""


class PortalFailed(TechnicalError):
    """The page a step waits on is the portal's answer with an HTTP error status (its 500 page, its 404 or
    maintenance page): the element will never come, so the wait ends at once with the portal's answer."""


class PortalThrottled(TechnicalError):
    """The portal kept answering 429 Too many requests after the runner waited what it asked (robots.throttle).
    `retry_after`: the seconds its last answer asked for (the API answers 429 with it)."""

    failure_kind = "portal_throttled"

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StepTimeout(TechnicalError):
    """A wait did not see its condition before the deadline."""


class ElementNotFound(TechnicalError):
    """None of a selector's candidates matched an element on the page."""


class ScrapeError(TechnicalError):
    """A page did not have the shape the scraper expects (selector or layout drift)."""


class ContractError(ScrapeError):
    """A scraped record does not fit the model its flow declares: scrape drift. Recorded as its own failure kind
    (`scrape_drift`), apart from the portal's and the browser's failures: the portal answered, and what it shows
    no longer fits what the flow reads (fix the flow's field maps or selectors, not the machine)."""

    failure_kind = "scrape_drift"


class InternalError(TechnicalError):
    """An exception that is no RobotsError reached the runner or the command line: a bug in robots, a step or a
    plugin. Its message names the exception; the traceback is logged with -v."""


class Interrupted(RobotsError):
    """The run was interrupted by SIGINT or SIGTERM."""

    exit_code = 130
    failure_kind = None
    #: the run status it ends a run with, and whether the failed step's evidence is saved
    run_status: ClassVar[str] = "interrupted"
    keep_evidence: ClassVar[bool] = False


class Canceled(Interrupted):
    """Someone asked for the run to stop (`robots runs cancel ID`, the API); the run is recorded `canceled`."""

    run_status = "canceled"


class RunTimedOut(Interrupted):
    """The run went over its `max_runtime`: stopped, recorded `errored` (a technical failure) with evidence."""

    exit_code = 3
    failure_kind = "technical"  # type: ignore[assignment]
    run_status = "errored"
    keep_evidence = True


def suggest(name: str, known: list[str]) -> str:
    """` (did you mean 'x'?)` for the closest of `known` to a name that was not found, else ''."""
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
