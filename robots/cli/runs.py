"""`robots runs`: the recorded runs (list, show, export, prune, sweep, cancel)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from robots.cli.common import err, fail, home, out, parse_age, sql_store
from robots.errors import InputError, RobotsError

runs_app = typer.Typer(help="Recorded runs.", no_args_is_help=False, invoke_without_command=True)


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
        start = datetime.now(UTC) - parse_age(since, "--since") if since else None
        records = open_store().list(limit=limit, flow=flow, status=status, since=start)
    except RobotsError as e:
        raise fail(e) from None
    table = Table(show_edge=False, box=None, pad_edge=False)
    for col in ("run id", "flow", "status", "started (UTC)", "seconds", "pages", "rows", "error"):
        table.add_column(col)
    for r in records:
        secs = f"{r.duration_s:.1f}" if r.duration_s is not None else ""
        table.add_row(r.run_id, r.flow_name, r.status, r.started_at.strftime("%Y-%m-%d %H:%M:%S"), secs,
                      str(r.pages), str(r.rows), shorten(r.error_message or "", 60))  # (masked when saved)
    out().print(table)


@runs_app.command("prune")
def runs_prune(
    older_than: Annotated[str, typer.Option(help="remove runs started longer ago than this, e.g. 30d")],
    dry_run: Annotated[bool, typer.Option(help="only list what would be removed")] = False,
) -> None:
    """Remove old runs: their records and their folders (evidence, reports) together."""
    import shutil

    from robots.records import open_store

    try:
        cutoff = datetime.now(UTC) - parse_age(older_than, "--older-than")
        store = open_store()
        old = store.list(limit=None, before=cutoff)
    except RobotsError as e:
        raise fail(e) from None
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
        raise fail(e) from None
    from robots.output_files import atomic_file, check_target

    target = output or Path(f"{run_id}.zip")
    try:
        check_target(target, f"--output {target}")
    except RobotsError as e:
        raise fail(e) from None
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

    swept = Runner(store=open_store(), home=home()).sweep()
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
        raise fail(e) from None
    console = out()
    if json_:
        sys.stdout.write(r.model_dump_json(indent=2) + "\n")
        return
    console.print(f"run {r.run_id} · {r.flow_name} · {r.status}", markup=False)
    console.print(f"started {r.started_at.isoformat()}  ended {r.ended_at.isoformat() if r.ended_at else '-'}  "
                  f"pages {r.pages}  rows {r.rows}", markup=False)
    if r.error_message:
        kind = (r.failure_kind or "technical").replace("_", " ")
        console.print(f"error ({kind}): {r.error_message}", markup=False)
        if r.error_location is not None:
            where = r.error_location
            at = f"{where.file}:{where.line}" if where.line is not None else where.file
            console.print(f"  at {at}{f': {where.step}' if where.step else ''}", markup=False)
    table = Table(show_edge=False, box=None)
    for col in ("#", "step", "status", "ms", "note"):
        table.add_column(col)
    for s in r.steps:
        table.add_row(str(s.index), s.name, s.status, f"{s.duration_ms:.0f}",
                      s.error_message or s.output_summary or "")
    console.print(table)
    for ev in r.evidence:
        console.print(f"evidence (step {ev.step_index}): {ev.screenshot or ''} {ev.html or ''} {ev.url or ''}",
                      markup=False)


@runs_app.command("cancel")
def runs_cancel(
    run_id: Annotated[str, typer.Argument(help="the run id")],
    wait: Annotated[float, typer.Option(help="seconds to wait for the run to stop (0: do not wait)")] = 60.0,
) -> None:
    """Cancel a running run (CLI, scheduled or API): it stops before its next step or inside its current wait,
    closes its browser and is recorded `canceled`."""
    try:
        store = sql_store()
        record = store.get(run_id)
        if record.status != "running":
            raise InputError(f"run {run_id} is not running (it is {record.status})")
        store.request_cancel(run_id, "robots runs cancel")
        deadline = time.monotonic() + wait
        while record.status == "running" and time.monotonic() < deadline:
            time.sleep(0.2)  # back-off: polling the record until the runner has stopped the run
            record = store.get(run_id)
    except RobotsError as e:
        raise fail(e) from None
    if record.status == "running":
        err.print(f"cancel requested for run {run_id}; it has not stopped yet", markup=False)
        raise typer.Exit(1)
    err.print(f"run {run_id} {record.status}", markup=False)
