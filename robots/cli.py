"""The command line: `robots run`, `validate`, `schema`, `steps`, `explain`, `runs`, `report`, `sandbox`,
`secrets`, `schedule`, `pause`, `resume`. The library raises; this
module alone turns errors into text and exit codes (0 passed, 1 failed, 2 invalid input, 3 errored,
130 interrupted)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from robots.errors import ConfigError, FlowError, InputError, Interrupted, RobotsError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Robotic process automation for web portals without an API (first target: Sera).")
runs_app = typer.Typer(help="Recorded runs.", no_args_is_help=False, invoke_without_command=True)
sandbox_app = typer.Typer(help="The bundled sandbox Sera portal.", no_args_is_help=True)
secrets_app = typer.Typer(help="The encrypted secrets vault (.robots/vault).", no_args_is_help=True)
selectors_app = typer.Typer(help="Selector catalogs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(secrets_app, name="secrets")
sessions_app = typer.Typer(help="Stored portal sessions (restored by later runs instead of signing in again).",
                           no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")
app.add_typer(selectors_app, name="selectors")

err = Console(stderr=True, highlight=False, soft_wrap=True)
log = logging.getLogger("robots")


def _out() -> Console:
    """stdout for tables: a terminal's width, or wide enough not to fold when piped to a file."""
    # markup=False: cells hold portal data and selectors like `css:input[name=q]`, never Rich markup.
    console = Console(highlight=False, soft_wrap=False, markup=False)
    return console if console.is_terminal else Console(highlight=False, soft_wrap=False, markup=False, width=240)


def _home() -> Path:
    return Path(os.environ.get("ROBOTS_HOME", ".robots"))


def _setup_logging(verbose: int, masker: Any = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("robots: %(message)s"))
    if masker is not None:
        from robots.masking import MaskingFilter

        handler.addFilter(MaskingFilter(masker))
    root = logging.getLogger("robots")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    root.propagate = False


def _fail(error: RobotsError) -> typer.Exit:
    if isinstance(error, FlowError):
        for issue in error.issues:
            err.print(str(issue), markup=False)
        n = len(error.issues)
        err.print(f"{n} problem{'s' if n != 1 else ''} found; nothing was run.", markup=False)
    else:
        err.print(f"error: {error}", markup=False)
    return typer.Exit(error.exit_code)


_AGE_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _parse_age(text: str, option: str) -> timedelta:
    """'90m', '12h', '7d', '2w' -> a timedelta."""
    number, unit = text[:-1], text[-1:].lower()
    if unit not in _AGE_UNITS or not number.isdigit():
        raise InputError(f"{option} expects a number and a unit (m, h, d or w), like 7d or 12h; got {text!r}")
    return timedelta(seconds=int(number) * _AGE_UNITS[unit])


def _read_vars_file(path: Path) -> dict[str, Any]:
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


def _parse_vars(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--var expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


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


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(f"interrupted by {signal.Signals(signum).name}")


#: the file types --output writes
_OUTPUT_TYPES = (".json", ".jsonl", ".csv")


def _check_output(output: Path) -> None:
    """--output, checked before the run starts: a file type it writes, in a folder where it can be made."""
    from robots.output_files import check_target

    if output.suffix.lower() not in _OUTPUT_TYPES:
        raise InputError(f"--output: unknown file type {output.suffix.lower()!r}; use .json, .jsonl or .csv")
    check_target(output, f"--output {output}")


def _write_outputs(outputs: dict[str, Any], fmt: str, output: Path | None) -> None:
    if output is not None:
        from robots.output_files import write_atomically

        suffix = output.suffix.lower()
        if suffix == ".json":
            text = json.dumps(outputs, indent=2, ensure_ascii=False) + "\n"
        else:
            rows = _main_list(outputs)
            f = io.StringIO(newline="")
            if suffix == ".jsonl":
                for row in rows:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                _write_csv(f, rows)
            text = f.getvalue()
        # A new file beside the target, renamed over it: nothing planted there (a symlink) is written through.
        write_atomically(output, text.encode("utf-8"), make_dirs=False)
        return
    if fmt == "table":
        _print_table(outputs)
    else:
        sys.stdout.write(json.dumps(outputs, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def _check_output_fits(flow: Any, output: Path) -> None:
    """A .jsonl/.csv file holds one list: a flow whose declared output types say it returns none, or several, is
    refused before it runs (an output without a declared type is checked when the run has returned it)."""
    if output.suffix.lower() not in (".jsonl", ".csv"):
        return
    kinds = {name: spec.type if spec is not None else None for name, spec in flow.outputs.items()}
    lists = [name for name, kind in kinds.items() if kind == "list"]
    if len(lists) > 1 or (not lists and None not in kinds.values()):
        said = f"declares {len(lists)} ({', '.join(lists)})" if lists else "declares none"
        raise InputError(f"--output {output}: a {output.suffix.lower()} file holds one list output, and "
                         f"{flow.path} {said}; use a .json file")


def _main_list(outputs: dict[str, Any]) -> list[Any]:
    lists = [v for v in outputs.values() if isinstance(v, list)]
    if len(lists) != 1:
        raise InputError("--output .jsonl/.csv needs a flow with exactly one list output")
    return lists[0]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _write_csv(f: io.TextIOBase, rows: list[Any]) -> None:
    keys: list[str] = []
    for row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    w = csv.DictWriter(f, fieldnames=keys)
    w.writeheader()
    for row in rows:
        w.writerow({k: _cell(row.get(k)) for k in keys})


def _print_table(outputs: dict[str, Any]) -> None:
    out = _out()
    for name, value in outputs.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            keys = [k for k in value[0] if k not in ("source_url", "scraped_at") and not k.startswith("raw_")]
            keys = [k for k in keys if any(r.get(k) not in (None, []) for r in value)]
            table = Table(title=f"{name} ({len(value)})", show_lines=False)
            for k in keys:
                table.add_column(k, overflow="fold", justify="right" if k.endswith("_cents") else "left")
            for row in value:
                table.add_row(*(_cell(row.get(k)) for k in keys))
            out.print(table)
        else:
            out.print(f"{name}: {_cell(value)}")


# --------------------------------------------------------------------------------------------- run
@app.command()
def run(
    flow: Annotated[Path, typer.Argument(help="the flow file (YAML)")],
    var: Annotated[list[str], typer.Option("--var", help="a flow var, KEY=VALUE (repeatable)")] = [],  # noqa: B006
    portal_url: Annotated[str | None, typer.Option(help="the portal's base URL (else ROBOTS_PORTAL_URL, "
                                                        "else the bundled sandbox for 'sera')")] = None,
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
    dry_run: Annotated[bool, typer.Option(help="skip the steps that submit data (write: true)")] = False,
    from_step: Annotated[str | None, typer.Option(help="start at this top-level step (number or id)")] = None,
    to_step: Annotated[str | None, typer.Option(help="stop after this top-level step (number or id)")] = None,
    pause_on_failure: Annotated[bool, typer.Option(help="on a failure, keep the browser open until Enter "
                                                        "(with --headed to look at it)")] = False,
    fresh_login: Annotated[bool, typer.Option(help="sign in afresh: neither restore nor store a portal "
                                                   "session")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="more logging on stderr")] = 0,
) -> None:
    """Run a flow in a real Chrome. Outputs go to stdout as JSON; the summary goes to stderr."""
    _setup_logging(verbose)
    try:
        from robots.browser.settings import BrowserOverrides

        choice = BrowserOverrides(kind=browser, grid_url=grid_url, headless=False if headed else None)
        code = _run(flow, var, portal_url, format, output, report, headed, vars_file=vars_file, dry_run=dry_run,
                    from_step=from_step, to_step=to_step, pause_on_failure=pause_on_failure, browser=choice,
                    fresh_login=fresh_login)
    except RobotsError as e:
        raise _fail(e) from None
    raise typer.Exit(code)


def _run(flow_path: Path, var: list[str], portal_url: str | None, fmt: str, output: Path | None,
         report: list[str], headed: bool, *, vars_file: Path | None = None, dry_run: bool = False,
         from_step: str | None = None, to_step: str | None = None, pause_on_failure: bool = False,
         browser: Any = None, fresh_login: bool = False) -> int:
    from robots.auth.vault import resolve_secrets
    from robots.browser.settings import resolve_options
    from robots.engine import Runner, exit_code
    from robots.flow.loader import load_flow
    from robots.masking import Masker
    from robots.output_files import check_target
    from robots.portals import open_portal
    from robots.records import open_store
    from robots.reports import REPORTERS, write_report

    if fmt not in ("json", "table"):
        raise InputError(f"--format must be json or table, got {fmt!r}")
    reports = []
    for item in report:
        kind, _, path = item.partition("=")
        if kind not in REPORTERS:
            raise InputError(f"--report: unknown kind {kind!r}; use one of {', '.join(sorted(REPORTERS))}")
        reports.append((kind, Path(path) if path else None))
    # Where the results go, before anything runs: a bad path must not end a finished run (a write done).
    if output is not None:
        _check_output(output)
    for kind, given in reports:
        if given is not None:
            check_target(given, f"--report {kind}={given}", make_dirs=True)
    flow = load_flow(flow_path)
    if output is not None:
        _check_output_fits(flow, output)
    vars_ = {**_read_vars_file(vars_file), **_parse_vars(var)} if vars_file else _parse_vars(var)
    from robots.engine import resolve_vars, step_range

    resolve_vars(flow, vars_)  # bad vars and step ranges are input errors before anything starts
    step_range(flow, from_step, to_step)
    resolve_options(flow.browser, overrides=browser)  # a bad --browser / ROBOTS_BROWSER too
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    progress = None
    try:
        with open_portal(flow.portal, url=portal_url, near=flow.path.parent.resolve()) as portal:
            secrets = resolve_secrets(flow.all_secrets(), defaults=portal.default_secrets if portal else None,
                                      optional=flow.all_optional_secrets(), commands=flow.all_secret_commands())
            masker = Masker(secrets.values())
            _setup_logging(0 if not log.isEnabledFor(logging.INFO) else 1, masker)
            store = open_store()
            progress = _Progress()
            runner = Runner(store=store, home=_home(), trigger="cli", listener=progress,  # type: ignore[arg-type]
                            browser=browser, pause_on_failure=pause_on_failure, keep_sessions=not fresh_login)
            runner.sweep()
            t0 = time.monotonic()
            record = runner.run(flow, vars=vars_, secrets=secrets, portal=portal, dry_run=dry_run,
                                from_step=from_step, to_step=to_step)
            seconds = time.monotonic() - t0
            progress.stop()
    except KeyboardInterrupt:
        if progress:
            progress.stop()
        err.print("interrupted", markup=False)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    code = exit_code(record)
    if record.status == "passed":
        try:
            _write_outputs(record.outputs, fmt, output)
        except OSError as e:  # checked before the run; the disk may still fill up or the folder go away since
            err.print(f"error: --output {output}: could not write it: {e.strerror or e}; the outputs are in the "
                      f"run's record: robots runs show {record.run_id} --json", markup=False)
            code = 3
    for kind, given in reports:
        target = given or Path(record.run_dir or ".") / _report_name(kind)
        write_report(kind, record, target)
        err.print(f"report ({kind}): {target}", markup=False)
    err.print(f"run {record.run_id} {record.status} · {record.pages} pages · {record.rows} rows · "
              f"{seconds:.1f} s · {flow.name}", markup=False)
    if record.error_message:
        err.print(f"error: {record.error_message}", markup=False)
    for ev in record.evidence:
        if ev.screenshot:
            err.print(f"screenshot: {Path(record.run_dir or '') / ev.screenshot}", markup=False)
    return code


def _report_name(kind: str) -> str:
    return f"report.{'xml' if kind == 'junit' else kind}"


# ------------------------------------------------------------------------------------------ report
@app.command()
def report(
    run_id: Annotated[str | None, typer.Argument(help="a run id: that run's report")] = None,
    format: Annotated[str, typer.Option("--format", help="html, json or junit (one run)")] = "html",
    since: Annotated[str | None, typer.Option(help="a dashboard of all runs started within this age, e.g. 7d")] = None,
    output: Annotated[Path | None, typer.Option(help="where to write it")] = None,
) -> None:
    """Write a run's report (html, json, junit), or with --since a multi-run HTML dashboard."""
    from robots.records import open_store
    from robots.reports import write_report

    try:
        if (run_id is None) == (since is None):
            raise InputError("give a run id, or --since AGE for the dashboard (not both)")
        store = open_store()
        if since is not None:
            from robots.reports._files import write_atomically
            from robots.reports.dashboard import render_dashboard

            now = datetime.now(UTC)
            start = now - _parse_age(since, "--since")
            target = output or Path("dashboard.html")
            page = render_dashboard(store.list(limit=None, since=start), since=start, now=now)
            write_atomically(target, page.encode("utf-8"))
        else:
            assert run_id is not None
            record = store.get(run_id)
            target = output or Path(record.run_dir or ".") / _report_name(format)
            write_report(format, record, target)
    except RobotsError as e:
        raise _fail(e) from None
    sys.stdout.write(f"{target}\n")


# -------------------------------------------------------------------------------------- flow tools
@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write to this file (default: stdout)")] = None,
) -> None:
    """The JSON Schema of flow files, for editors (VS Code: `yaml.schemas` or `# yaml-language-server: $schema=`)."""
    from robots.flow.schema import flow_schema

    text = json.dumps(flow_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        from robots.output_files import write_atomically

        write_atomically(output, text.encode("utf-8"), make_dirs=False)
        err.print(f"wrote {output}", markup=False)


@app.command()
def steps(
    format: Annotated[str, typer.Option("--format", help="text or markdown")] = "text",
) -> None:
    """The step reference: every step, its arguments, the options every step takes, and an example."""
    from robots.flow.reference import step_reference

    if format not in ("text", "markdown"):
        err.print(f"error: --format is text or markdown, not {format!r}", markup=False)
        raise typer.Exit(2)
    sys.stdout.write(step_reference(format))  # type: ignore[arg-type]


@app.command()
def explain(flow: Annotated[Path, typer.Argument(help="the flow file (YAML)")]) -> None:
    """Show a flow's steps as the runner will see them, with every selector resolved to its candidates."""
    from robots.flow.explain import explain as explain_flow
    from robots.flow.loader import load_flow

    try:
        loaded = load_flow(flow)
    except RobotsError as e:
        raise _fail(e) from None
    sys.stdout.write(explain_flow(loaded))


# ---------------------------------------------------------------------------------------- validate
@app.command()
def validate(
    flows: Annotated[list[Path], typer.Argument(help="flow files or folders")],
    format: Annotated[str, typer.Option("--format", help="text, or json (for editors and CI) on stdout")] = "text",
) -> None:
    """Check flows without starting a browser: YAML, steps, arguments, selectors and templates."""
    from robots.flow.loader import load_flow, one_pass

    if format not in ("text", "json"):
        err.print(f"error: --format is text or json, not {format!r}", markup=False)
        raise typer.Exit(2)
    files: list[Path] = []
    for p in flows:
        files += sorted(p.rglob("*.yaml")) if p.is_dir() else [p]
    bad = 0
    found: list[dict[str, Any]] = []
    with one_pass():
        for f in files:
            try:
                load_flow(f)
            except FlowError as e:
                bad += 1
                for issue in e.issues:
                    found.append({"file": issue.file, "line": issue.line, "column": issue.column,
                                  "where": issue.where, "message": issue.message})
                    if format == "text":
                        err.print(str(issue), markup=False)
    if format == "json":
        sys.stdout.write(json.dumps({"files": len(files), "invalid": bad, "problems": found}, indent=2) + "\n")
    if bad:
        err.print(f"{bad} of {len(files)} flow{'s' if len(files) != 1 else ''} invalid", markup=False)
        raise typer.Exit(2)
    err.print(f"{len(files)} flow{'s' if len(files) != 1 else ''} valid", markup=False)


# -------------------------------------------------------------------------------------------- runs
@runs_app.callback()
def runs_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="how many runs")] = 20,
    flow: Annotated[str | None, typer.Option(help="only runs of this flow")] = None,
    status: Annotated[str | None, typer.Option(help="only runs with this status")] = None,
    since: Annotated[str | None, typer.Option(help="only runs started within this age, e.g. 1d, 12h")] = None,
) -> None:
    """List recent runs, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from robots.masking import shorten
    from robots.records import open_store

    try:
        start = datetime.now(UTC) - _parse_age(since, "--since") if since else None
        records = open_store().list(limit=limit, flow=flow, status=status, since=start)
    except RobotsError as e:
        raise _fail(e) from None
    table = Table(show_edge=False, box=None, pad_edge=False)
    for col in ("run id", "flow", "status", "started (UTC)", "seconds", "pages", "rows", "error"):
        table.add_column(col)
    for r in records:
        secs = f"{r.duration_s:.1f}" if r.duration_s is not None else ""
        table.add_row(r.run_id, r.flow_name, r.status, r.started_at.strftime("%Y-%m-%d %H:%M:%S"), secs,
                      str(r.pages), str(r.rows), shorten(r.error_message or "", 60))  # (masked when saved)
    _out().print(table)


@runs_app.command("prune")
def runs_prune(
    older_than: Annotated[str, typer.Option(help="remove runs started longer ago than this, e.g. 30d")],
    dry_run: Annotated[bool, typer.Option(help="only list what would be removed")] = False,
) -> None:
    """Remove old runs: their records and their folders (evidence, reports) together."""
    import shutil

    from robots.records import open_store

    try:
        cutoff = datetime.now(UTC) - _parse_age(older_than, "--older-than")
        store = open_store()
        old = store.list(limit=None, before=cutoff)
    except RobotsError as e:
        raise _fail(e) from None
    for record in old:
        if record.status == "running":
            continue  # never pull the record out from under a run that may still be going
        if not dry_run:
            if record.run_dir:
                shutil.rmtree(record.run_dir, ignore_errors=True)
            store.delete(record.run_id)
        sys.stdout.write(record.run_id + "\n")
    n = sum(r.status != "running" for r in old)
    err.print(f"{'would remove' if dry_run else 'removed'} {n} run{'s' if n != 1 else ''} started before "
              f"{cutoff:%Y-%m-%d %H:%M} UTC", markup=False)


@runs_app.command("export")
def runs_export(
    run_id: Annotated[str, typer.Argument(help="the run id")],
    output: Annotated[Path | None, typer.Option(help="the zip file (default: RUN_ID.zip)")] = None,
) -> None:
    """Bundle a run into a zip: its record (record.json) and its folder (evidence, reports)."""
    import zipfile

    from robots.records import open_store

    try:
        record = open_store().get(run_id)
    except RobotsError as e:
        raise _fail(e) from None
    from robots.output_files import atomic_file, check_target

    target = output or Path(f"{run_id}.zip")
    try:
        check_target(target, f"--output {target}")
    except RobotsError as e:
        raise _fail(e) from None
    with atomic_file(target) as handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{run_id}/record.json", record.model_dump_json(indent=2))
        folder = Path(record.run_dir) if record.run_dir else None
        if folder and folder.is_dir():
            for f in sorted(folder.rglob("*")):
                if f.is_file() and f.name not in ("owner.json",):
                    z.write(f, f"{run_id}/{f.relative_to(folder)}")
    err.print(f"exported run {run_id} to {target}", markup=False)


@runs_app.command("sweep")
def runs_sweep() -> None:
    """End the Chrome processes of runs whose runner was killed, and mark those runs interrupted
    (`robots run` does this by itself at start)."""
    from robots.engine import Runner
    from robots.records import open_store

    swept = Runner(store=open_store(), home=_home()).sweep()
    err.print(f"swept {len(swept)} run{'s' if len(swept) != 1 else ''}"
              + (f": {', '.join(swept)}" if swept else ""), markup=False)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="the run id")],
              json_: Annotated[bool, typer.Option("--json", help="the whole record as JSON")] = False) -> None:
    """Show one run: status, steps with timings, error and evidence."""
    from robots.records import open_store

    try:
        r = open_store().get(run_id)
    except RobotsError as e:
        raise _fail(e) from None
    out = _out()
    if json_:
        sys.stdout.write(r.model_dump_json(indent=2) + "\n")
        return
    out.print(f"run {r.run_id} · {r.flow_name} · {r.status}", markup=False)
    out.print(f"started {r.started_at.isoformat()}  ended {r.ended_at.isoformat() if r.ended_at else '-'}  "
              f"pages {r.pages}  rows {r.rows}", markup=False)
    if r.error_message:
        kind = (r.failure_kind or "technical").replace("_", " ")
        out.print(f"error ({kind}): {r.error_message}", markup=False)
    table = Table(show_edge=False, box=None)
    for col in ("#", "step", "status", "ms", "note"):
        table.add_column(col)
    for s in r.steps:
        table.add_row(str(s.index), s.name, s.status, f"{s.duration_ms:.0f}",
                      s.error_message or s.output_summary or "")
    out.print(table)
    for ev in r.evidence:
        out.print(f"evidence (step {ev.step_index}): {ev.screenshot or ''} {ev.html or ''} {ev.url or ''}",
                  markup=False)


# ----------------------------------------------------------------------------------------- sandbox
@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0: a free one)")] = 0,
    seed: Annotated[int, typer.Option(help="data seed")] = 1234,
    size: Annotated[str, typer.Option(help="data size: small or default")] = "default",
    fault: Annotated[list[str], typer.Option(help="switch a fault on for the whole session, e.g. layout_b or "
                                                  "latency:ms=300 (repeatable; kept across resets)")] = [],  # noqa: B006
) -> None:
    """Serve the sandbox Sera portal until Ctrl-C; prints its URL on stdout."""
    from robots.sandbox import SIZES, serve_forever

    if size not in SIZES:
        err.print(f"error: --size must be one of {', '.join(SIZES)}", markup=False)
        raise typer.Exit(2)
    faults = []
    for item in fault:
        name, _, params = item.partition(":")
        spec: dict[str, Any] = {"name": name}
        for pair in filter(None, params.split(",")):
            key, sep, value = pair.partition("=")
            if not sep:
                err.print(f"error: --fault expects NAME or NAME:key=value,..., got {item!r}", markup=False)
                raise typer.Exit(2)
            spec[key] = int(value) if value.lstrip("-").isdigit() else value
        faults.append(spec)

    def ready(url: str) -> None:
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        err.print("sandbox Sera portal ready; `robots sandbox credentials` shows the demo account. Ctrl-C stops.",
                  markup=False)

    try:
        serve_forever(host, port, seed, size, ready, faults=faults or None)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    except ValueError as e:  # a fault the sandbox does not know, or bad parameters
        err.print(f"error: --fault: {e}", markup=False)
        raise typer.Exit(2) from None


@sandbox_app.command("credentials")
def sandbox_credentials() -> None:
    """The sandbox's demo account as JSON (test data, not a secret; use it only against the sandbox)."""
    from robots.sandbox import credentials

    sys.stdout.write(json.dumps(credentials(), indent=2) + "\n")


# --------------------------------------------------------------------------------------- selectors
@selectors_app.command("check")
def selectors_check(
    url: Annotated[str, typer.Argument(help="the page to check")],
    catalog: Annotated[Path, typer.Option(help="a catalog file, e.g. selectors/sera/login.yaml")],
) -> None:
    """Open URL in Chrome and show which candidates of each selector match there (first one wins; a later one
    is drift). Exit 1 when some selector has no matching candidate."""
    from robots.browser.check import check_catalog

    try:
        landed, results = check_catalog(url, catalog)
    except RobotsError as e:
        raise _fail(e) from None
    table = Table(show_edge=False, box=None)
    for col in ("selector", "candidate", "matches", "verdict"):
        table.add_column(col)
    broken = []
    by_selector: dict[str, list[Any]] = {}
    for r in results:
        by_selector.setdefault(r.selector, []).append(r)
    for name, rows in by_selector.items():
        winner = next((r for r in rows if r.matches > 0), None)
        if winner is None:
            broken.append(name)
        for r in rows:
            verdict = ("invalid selector" if r.matches < 0 else "used" if r is winner and r is rows[0]
                       else "used (drift: an earlier candidate failed)" if r is winner else "")
            table.add_row(name, r.candidate, str(max(r.matches, 0)) if r.matches >= 0 else "-", verdict)
    _out().print(table)
    err.print(f"checked on {landed}: {len(by_selector) - len(broken)} of {len(by_selector)} selectors match"
              + (f"; none of the candidates of {', '.join(broken)} match" if broken else ""), markup=False)
    if broken:
        raise typer.Exit(1)


# ----------------------------------------------------------------------------------------- secrets
@secrets_app.command("set")
def secrets_set(name: Annotated[str, typer.Argument(help="secret name, e.g. sera_password")]) -> None:
    """Store a secret in the vault; the value is read from stdin (never from the command line)."""
    from robots.auth.vault import Vault

    value = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else typer.prompt(name, hide_input=True)
    try:
        Vault.default(_home()).set(name, value)
    except RobotsError as e:
        raise _fail(e) from None
    err.print(f"stored '{name}' in {_home() / 'vault'}", markup=False)


@secrets_app.command("list")
def secrets_list() -> None:
    """The names in the vault (never the values)."""
    from robots.auth.vault import Vault

    try:
        for n in Vault.default(_home()).names():
            sys.stdout.write(n + "\n")
    except RobotsError as e:
        raise _fail(e) from None


@secrets_app.command("rm")
def secrets_rm(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a secret from the vault."""
    from robots.auth.vault import Vault

    try:
        found = Vault.default(_home()).remove(name)
    except RobotsError as e:
        raise _fail(e) from None
    if not found:
        err.print(f"error: no secret '{name}' in the vault", markup=False)
        raise typer.Exit(2)


def _session_store():  # noqa: ANN202 - SessionStore, imported lazily
    from robots.auth.sessions import SessionStore
    from robots.records import open_store

    store = SessionStore.beside(open_store(), _home())
    if store is None:
        raise _fail(ConfigError("sessions need a SQL database (ROBOTS_DATABASE_URL is memory://)"))
    return store


@sessions_app.command("list")
def sessions_list() -> None:
    """Stored sessions: portal, URL, the account's hash (accounts are not stored in clear) and when they were
    saved. Never cookie values."""
    try:
        rows = _session_store().keys()
    except RobotsError as e:
        raise _fail(e) from None
    for key, saved_at in rows:
        portal, url, account = key.split("|", 2)
        sys.stdout.write(f"{portal}\t{url}\taccount #{account[:8]}\t{saved_at:%Y-%m-%d %H:%M:%S} UTC\n")


@sessions_app.command("clear")
def sessions_clear() -> None:
    """Forget every stored session and every login block (a password the portal rejected is tried again)."""
    try:
        store = _session_store()
        sessions, blocks = store.forget(), store.unblock()
    except RobotsError as e:
        raise _fail(e) from None
    err.print(f"cleared {sessions} session{'s' if sessions != 1 else ''} and {blocks} login "
              f"block{'s' if blocks != 1 else ''}", markup=False)


# ------------------------------------------------------------------ unattended robots (robots/scheduler/cli.py)
from robots.scheduler.cli import pause_all, resume_all, runs_cancel, schedule_app  # noqa: E402 - needs err, _fail

app.add_typer(schedule_app, name="schedule")
app.command("pause")(pause_all)
app.command("resume")(resume_all)
runs_app.command("cancel")(runs_cancel)

# ------------------------------------------------------------------ change detection (robots/watch_cli.py)
from robots.watch_cli import watch_command  # noqa: E402

app.command("watch")(watch_command)

# ------------------------------------------------------------------ Gherkin for QA (robots/testing/bdd_cli.py)
from robots.testing.bdd_cli import bdd_command  # noqa: E402

app.command("bdd")(bdd_command)

# ------------------------------------------------------------------ the Sera API (robots/api; imported lazily)
api_app = typer.Typer(help="The Sera API's tokens (`robots serve` runs the API).", no_args_is_help=True)
api_token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
api_app.add_typer(api_token_app, name="token")
app.add_typer(api_app, name="api")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    portal_url: Annotated[str | None, typer.Option(help="the portal for admin tokens (else ROBOTS_PORTAL_URL)")] = None,
) -> None:
    """Serve the Sera API (OpenAPI at /openapi.json, docs at /docs)."""
    import dataclasses

    import uvicorn

    from robots.api import ApiSettings, create_app

    try:
        settings = ApiSettings(home=_home())
        if portal_url:
            settings = dataclasses.replace(settings, portal_url=portal_url)
        application = create_app(settings)
    except RobotsError as e:
        raise _fail(e) from None
    err.print(f"Sera API on http://{host}:{port} (docs: /docs)", markup=False)
    uvicorn.run(application, host=host, port=port, log_level="warning")


@api_token_app.command("create")
def api_token_create(
    scope: Annotated[list[str], typer.Option("--scope", help="a scope to grant (repeat); e.g. admin")],
    label: Annotated[str, typer.Option(help="who the token is for (shown in the audit log)")] = "cli",
    days: Annotated[float, typer.Option(help="lifetime in days")] = 30,
    credential: Annotated[list[str] | None, typer.Option(
        "--credential", help="a stored credential (vault NAME_username, NAME_password, NAME_totp) the token may sign "
                             "in with through POST /sessions (repeat)")] = None,
    tenant: Annotated[str | None, typer.Option(
        help="bind the token to one tenant: it signs in only to that tenant's portals and sees only its runs")] = None,
) -> None:
    """Mint an API token without a portal session (its flows use the vault, like `robots run`): prints it once.
    A bootstrap token for POST /sessions: `--scope sessions:create [--credential NAME] [--tenant T]`."""
    from robots.api.auth import TokenStore
    from robots.records import SqlStore, open_store

    try:
        store = open_store()
        if not isinstance(store, SqlStore):
            raise InputError("API tokens need a SQL database (ROBOTS_DATABASE_URL), not memory://")
        with store:
            token, row = TokenStore(store.engine).create(scope, label=label, ttl=timedelta(days=days), tenant=tenant,
                                                         credentials=credential or ())
    except RobotsError as e:
        raise _fail(e) from None
    grants = f"; credentials {', '.join(row.credentials.split())}" if row.credentials else ""
    bound = f"; tenant {row.tenant}" if row.tenant else ""
    err.print(f"token {row.token_id} ({', '.join(row.scopes.split())}{grants}{bound}), expires "
              f"{row.expires_at.isoformat(timespec='seconds')}; it is shown only now:", markup=False)
    print(token)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        app(args=argv, prog_name="robots")
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
