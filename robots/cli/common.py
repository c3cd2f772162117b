"""What every command group of the command line shares: the stderr console, the stdout console for tables, the
home folder, logging, the one place a RobotsError becomes text and an exit code, and the parsers of options
several commands take (--var, --vars-file, ages like 7d). It imports no other robots.cli module (a test checks
it), so every group can use it and none imports another."""

from __future__ import annotations

import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from robots.errors import FlowError, InputError, Interrupted, RobotsError

__all__ = ["err", "error_lines", "fail", "home", "internal", "out", "parse_age", "parse_vars", "raise_interrupted",
           "read_vars_file", "report_name", "setup_logging", "sql_store"]

#: stderr: progress, summaries and errors (stdout is for results)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def out() -> Console:
    """stdout for tables: a terminal's width, or wide enough not to fold when piped to a file."""
    # markup=False: cells hold portal data and selectors like `css:input[name=q]`, never Rich markup.
    console = Console(highlight=False, soft_wrap=False, markup=False)
    return console if console.is_terminal else Console(highlight=False, soft_wrap=False, markup=False, width=240)


def home() -> Path:
    from robots.settings import settings

    return settings().home


def setup_logging(verbose: int, masker: Any = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("robots: %(message)s"))
    if masker is not None:
        from robots.masking import MaskingFilter

        handler.addFilter(MaskingFilter(masker))
    root = logging.getLogger("robots")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    root.propagate = False


def fail(error: RobotsError) -> typer.Exit:
    """The error on stderr (a flow's problems one per line), and the Exit carrying its exit code."""
    if isinstance(error, FlowError):
        for issue in error.issues:
            err.print(str(issue), markup=False)
        n = len(error.issues)
        err.print(f"{n} problem{'s' if n != 1 else ''} found; nothing was run.", markup=False)
    else:
        err.print(f"error: {error}", markup=False)
    return typer.Exit(error.exit_code)


def error_lines(record: Any) -> list[str]:
    """A run's error as stderr shows it: `error: MESSAGE`, then where it came from and its class,
    `  at flows/x.yaml:12: steps[2].for_each.steps[0].click (technical: ElementNotFound)`."""
    if not record.error_message:
        return []
    lines = [f"error: {record.error_message}"]
    where = record.error_location
    if where is not None:
        at = f"{where.file}:{where.line}" if where.line is not None else where.file
        at += f": {where.step}" if where.step else ""
        kind = (record.failure_kind or "technical").replace("_", " ")
        lines.append(f"  at {at} ({kind}: {record.error_class})")
    return lines


def internal(e: Exception, what: str) -> RobotsError:
    """An exception that is no RobotsError, met by a command outside a run: an InternalError whose message says
    `what` it was doing; the traceback is logged (shown with -v)."""
    import traceback

    from robots.errors import InternalError

    logging.getLogger("robots").info("internal error %s:\n%s", what, traceback.format_exc())
    described = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    return InternalError(f"{what}: {described}")


def raise_interrupted(signum: int, frame: Any) -> None:
    """A SIGTERM handler: the run ends as interrupted (130), like Ctrl-C."""
    raise Interrupted(f"interrupted by {signal.Signals(signum).name}")


_AGE_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str, option: str) -> timedelta:
    """'90m', '12h', '7d', '2w' -> a timedelta."""
    number, unit = text[:-1], text[-1:].lower()
    if unit not in _AGE_UNITS or not number.isdigit():
        raise InputError(f"{option} expects a number and a unit (m, h, d or w), like 7d or 12h; got {text!r}")
    return timedelta(seconds=int(number) * _AGE_UNITS[unit])


def read_vars_file(path: Path) -> dict[str, Any]:
    from robots.flow.yamlsrc import load_data

    try:
        data = load_data(path, "a vars file")  # bounded like a flow: size, aliases, depth (FlowError)
    except FileNotFoundError:
        raise InputError(f"--vars-file: no such file {str(path)!r}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise InputError(f"--vars-file {path}: expected a mapping of var names to values")
    return data


def parse_vars(items: list[str]) -> dict[str, str]:
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--var expects KEY=VALUE, got {item!r}")
        values[key.strip()] = value
    return values


def report_name(kind: str) -> str:
    """A run's report file in its folder: report.html, report.json, report.xml (junit)."""
    return f"report.{'xml' if kind == 'junit' else kind}"


def sql_store() -> Any:
    """The run store, refused when it is not SQL (schedules, pauses and cancels live in its tables)."""
    from robots.records import open_store
    from robots.scheduler.service import require_sql

    return require_sql(open_store())

