"""`robots run FLOW`: a flow in a real Chrome, its outputs on stdout or in a file (robots/cli/output.py), its
reports, and a summary on stderr. Registered by robots/cli/__init__.py."""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from robots.cli.common import (
    err,
    error_lines,
    fail,
    home,
    internal,
    parse_vars,
    raise_interrupted,
    read_vars_file,
    report_name,
    setup_logging,
)
from robots.cli.output import check_output, check_output_fits, declared_columns, write_outputs
from robots.errors import InputError, RobotsError

log = logging.getLogger("robots")


class _Progress:
    """Progress on a terminal (Rich); nothing in CI and logs, where only the summary line is printed."""

    def __init__(self) -> None:
        self.status = err.status("starting…") if err.is_terminal else None
        if self.status:
            self.status.start()

    def step_started(self, call: Any, index: int) -> None:
        if self.status:
            self.status.update(f"{call.where} {call.label}")

    def step_finished(self, record: Any) -> None: ...

    def progress(self, pages: int, rows: int) -> None:
        if self.status:
            self.status.update(f"page {pages} · {rows} rows")

    def stop(self) -> None:
        if self.status:
            self.status.stop()

    def paused(self, url: str, error: str) -> None:
        self.stop()
        if not sys.stdin.isatty():
            err.print("robots: --pause-on-failure needs a terminal; closing the browser", markup=False)
            return
        err.print(f"paused on failure: {error}\nthe browser is still open at {url}; press Enter to close it",
                  markup=False)
        sys.stdin.readline()




def run(
    flow: Annotated[Path, typer.Argument(help="the flow file (YAML), or <pack>/<flow> for a flow a portal pack ships")],
    var: Annotated[list[str], typer.Option("--var", help="a flow var, KEY=VALUE (repeatable)")] = [],  # noqa: B006
    portal_url: Annotated[str | None, typer.Option(help="the portal's base URL (else ROBOTS_PORTAL_URL, "
                                                        "else the portal pack's bundled sandbox)")] = None,
    format: Annotated[str, typer.Option("--format", help="stdout format: json or table")] = "json",
    output: Annotated[Path | None, typer.Option(help="write outputs to FILE (.json, .jsonl, .csv) "
                                                     "instead of stdout")] = None,
    report: Annotated[list[str], typer.Option(help="write a report: html, json or junit, optionally =PATH "
                                                   "(repeatable)")] = [],  # noqa: B006
    headed: Annotated[bool, typer.Option(help="show the browser window (needs a display)")] = False,
    browser: Annotated[str | None, typer.Option(help="chromium, undetected or remote (else ROBOTS_BROWSER, "
                                                     "else the flow's browser.kind, else chromium)")] = None,
    grid_url: Annotated[str | None, typer.Option(help="the Selenium Grid for --browser remote (else "
                                                      "ROBOTS_GRID_URL, else the flow's browser.grid_url)")] = None,
    vars_file: Annotated[Path | None, typer.Option(help="a YAML mapping of vars (--var wins over it)")] = None,
    dry_run: Annotated[bool, typer.Option(help="submit nothing: skip the writes (write: true) and the steps that "
                                                "check them; report what each write would have submitted")] = False,
    from_step: Annotated[str | None, typer.Option(help="start at this top-level step (number or id)")] = None,
    to_step: Annotated[str | None, typer.Option(help="stop after this top-level step (number or id)")] = None,
    pause_on_failure: Annotated[bool, typer.Option(help="on a failure, keep the browser open until Enter "
                                                        "(with --headed to look at it)")] = False,
    fresh_login: Annotated[bool, typer.Option(help="sign in afresh: neither restore nor store a portal "
                                                   "session")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="more logging on stderr")] = 0,
) -> None:
    """Run a flow in a real Chrome. Outputs go to stdout as JSON; the summary goes to stderr."""
    setup_logging(verbose)
    try:
        from robots.browser.settings import BrowserOverrides

        choice = BrowserOverrides(kind=browser, grid_url=grid_url, headless=False if headed else None)
        code = _run(flow, var, portal_url, format, output, report, headed, vars_file=vars_file, dry_run=dry_run,
                    from_step=from_step, to_step=to_step, pause_on_failure=pause_on_failure, browser=choice,
                    fresh_login=fresh_login)
    except RobotsError as e:
        raise fail(e) from None
    raise typer.Exit(code)


def _parse_reports(report: list[str]) -> list[tuple[str, Path | None]]:
    """--report KIND[=PATH] options -> (kind, path or None for the run's folder)."""
    from robots.reports import REPORTERS

    reports = []
    for item in report:
        kind, _, path = item.partition("=")
        if kind not in REPORTERS:
            raise InputError(f"--report: unknown kind {kind!r}; use one of {', '.join(sorted(REPORTERS))}")
        reports.append((kind, Path(path) if path else None))
    return reports


def _run(flow_path: Path, var: list[str], portal_url: str | None, fmt: str, output: Path | None,
         report: list[str], headed: bool, *, vars_file: Path | None = None, dry_run: bool = False,
         from_step: str | None = None, to_step: str | None = None, pause_on_failure: bool = False,
         browser: Any = None, fresh_login: bool = False) -> int:
    from robots.browser.settings import resolve_options
    from robots.output_files import check_target
    from robots.run.launch import prepare_run

    if fmt not in ("json", "table"):
        raise InputError(f"--format must be json or table, got {fmt!r}")
    reports = _parse_reports(report)
    # Where the results go, before anything runs: a bad path must not end a finished run (a write done).
    if output is not None:
        check_output(output)
    for kind, given in reports:
        if given is not None:
            check_target(given, f"--report {kind}={given}", make_dirs=True)
    flow = _load(flow_path)
    if output is not None:
        check_output_fits(flow, output)
    vars_ = {**read_vars_file(vars_file), **parse_vars(var)} if vars_file else parse_vars(var)
    from robots.engine import step_range

    _check_vars(flow, flow_path, vars_)  # bad vars and step ranges are input errors before anything starts
    step_range(flow, from_step, to_step)
    resolve_options(flow.browser, overrides=browser)  # a bad --browser / ROBOTS_BROWSER too
    previous = signal.signal(signal.SIGTERM, raise_interrupted)
    progress = None
    try:
        with prepare_run(flow, trigger="cli", home=home(), portal_url=portal_url, near=flow.path.parent.resolve(),
                         on_masker=lambda masker: setup_logging(0 if not log.isEnabledFor(logging.INFO) else 1,
                                                                masker),
                         browser=browser, pause_on_failure=pause_on_failure, keep_sessions=not fresh_login) as launch:
            progress = _Progress()
            runner = launch.runner(listener=progress)
            runner.sweep()
            t0 = time.monotonic()
            record = launch.run(runner, vars=vars_, dry_run=dry_run, from_step=from_step, to_step=to_step)
            seconds = time.monotonic() - t0
            progress.stop()
    except KeyboardInterrupt:
        if progress:
            progress.stop()
        err.print("interrupted", markup=False)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    code = _finish(record, flow, fmt, output, reports, seconds)
    for ev in record.evidence:
        if ev.screenshot:
            err.print(f"screenshot: {Path(record.run_dir or '') / ev.screenshot}", markup=False)
    return code



def _load(flow_path: Path) -> Any:
    from robots.flow.loader import load_flow

    try:
        return load_flow(flow_path)
    except (RobotsError, KeyboardInterrupt):
        raise
    except Exception as e:  # a bug: named, its traceback with -v
        raise internal(e, f"{flow_path}: internal error while loading the flow") from e


def _check_vars(flow: Any, flow_path: Path, vars_: dict[str, Any]) -> None:
    from robots.engine import resolve_vars

    try:
        resolve_vars(flow, vars_)
    except (RobotsError, KeyboardInterrupt):
        raise
    except Exception as e:
        raise internal(e, f"{flow_path}: internal error while reading the vars") from e


def _finish(record: Any, flow: Any, fmt: str, output: Path | None, reports: list[tuple[str, Path | None]],
            seconds: float) -> int:
    """After the run: its outputs, its reports, the summary and its error on stderr; the exit code (3 when the
    outputs or a report of a passed run could not be written)."""
    from robots.engine import exit_code
    from robots.reports import write_report

    code = exit_code(record)
    if record.status == "passed" and not _delivered(record, flow, fmt, output):
        code = 3
    for kind, given in reports:
        target = given or Path(record.run_dir or ".") / report_name(kind)
        try:
            write_report(kind, record, target)
        except Exception as e:  # noqa: BLE001 - the run is over and recorded: say what could not be written
            log.info("--report %s: %s", kind, e, exc_info=True)
            err.print(f"error: --report {kind}: could not write {target}: {_described(e)}", markup=False)
            code = 3
            continue
        err.print(f"report ({kind}): {target}", markup=False)
    for line in dry_run_lines(record.dry_run):
        err.print(line, markup=False)
    err.print(f"run {record.run_id} {record.status} · {record.pages} pages · {record.rows} rows · "
              f"{seconds:.1f} s · {flow.name}", markup=False)
    for line in error_lines(record):
        err.print(line, markup=False)
    return code


def _described(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _delivered(record: Any, flow: Any, fmt: str, output: Path | None) -> bool:
    """The outputs of a passed run on stdout or in --output; False (and the error said) when they could not be
    written: the disk filled up or the folder went away since the check before the run, or a bug."""
    try:
        columns = declared_columns(flow) if output is not None and output.suffix.lower() == ".csv" else None
        write_outputs(record.outputs, fmt, output, columns)
        return True
    except Exception as e:  # noqa: BLE001 - the run is over and recorded: say where its outputs are
        log.info("writing the outputs: %s", e, exc_info=True)
        where = f"--output {output}: could not write it" if output is not None else \
            "could not write the outputs to stdout"
        err.print(f"error: {where}: {_described(e)}; the outputs are in the run's record: robots runs show "
                  f"{record.run_id} --json", markup=False)
        return False


def dry_run_lines(dry: Any) -> list[str]:
    """A dry run's lines on stderr: one per write not submitted, with what its form was given (masked in the record);
    none for a run that was not a dry run."""
    if dry is None:
        return []
    lines = []
    for w in dry.not_submitted:
        what = ", ".join(x for x in (w.name, w.target) if x)
        fields = ", ".join(f"{f.target}={f.value!r}" for f in w.fields)
        lines.append(f"dry run: not submitted: {w.step}" + (f" ({what})" if what else "")
                     + (f" on {w.url}" if w.url else "") + (f" with {fields}" if fields else ""))
    if not dry.not_submitted:
        lines.append("dry run: no write step was reached")
    if dry.outputs_not_set:
        lines.append(f"dry run: outputs not set (they depend on the writes): {', '.join(dry.outputs_not_set)}")
    return lines
