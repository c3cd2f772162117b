"""The command line: `robots run`, `validate`, `schema`, `steps`, `settings`, `explain`, `runs`, `report`, `sandbox`,
`secrets`, `schedule`, `pause`, `resume`, `watch`, `bdd`, `serve`, `api`, and the commands of every installed
portal pack (PortalPack.cli, e.g. `sandbox`). The library raises; this package
alone turns errors into text and exit codes (0 passed, 1 failed, 2 invalid input, 3 errored, 130 interrupted).

One module per command group, each using the public helpers of robots/cli/common.py (which imports no other
module of the package) and importing no other group; this module puts them together in the order `robots
--help` lists them. Command modules import the library inside their commands, so `robots validate` starts
without loading a browser, the API or the scheduler.

    run.py        robots run (its --output writers: output.py)
    report.py     robots report
    flowtools.py  robots schema, steps, settings, explain, validate
    runs.py       robots runs [list], prune, export, sweep, show, cancel
    vault.py      robots secrets set, list, rm
    sessions.py   robots sessions list, clear
    catalogs.py   robots selectors check
    schedule.py   robots schedule ..., pause, resume
    watch.py      robots watch
    bdd.py        robots bdd
    api.py        robots serve, api token create
"""

from __future__ import annotations

import sys

import typer

from robots.cli import (
    api,
    bdd,
    catalogs,
    flowtools,
    report,
    run,
    runs,
    schedule,
    sessions,
    vault,
    watch,
)
from robots.cli.common import err, fail, internal
from robots.errors import RobotsError

__all__ = ["app", "main"]


def _pack_apps() -> list[typer.Typer]:
    from robots import packs

    return [pack.cli() for pack in packs.installed().values() if pack.cli is not None]


def _portals() -> str:
    from robots import packs

    names = [name.capitalize() for name in packs.available()]
    return f"portals: {', '.join(names)}" if names else "no portal pack installed"


app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help=f"Robotic process automation for web portals without an API ({_portals()}).")

# Commands, in the order `robots --help` lists them (Typer lists the commands, then the groups).
app.command()(run.run)
app.command()(report.report)
app.command()(flowtools.schema)
app.command()(flowtools.steps)
app.command()(flowtools.settings)
app.command()(flowtools.explain)
app.command()(flowtools.validate)
app.command("pause")(schedule.pause_all)
app.command("resume")(schedule.resume_all)
app.command("watch")(watch.watch_command)
app.command("bdd")(bdd.bdd_command)
app.command()(api.serve)

app.add_typer(runs.runs_app, name="runs")
for _pack_app in _pack_apps():  # a pack's commands and groups, as its own Typer app declares them
    app.registered_commands += _pack_app.registered_commands
    app.registered_groups += _pack_app.registered_groups
app.add_typer(vault.secrets_app, name="secrets")
app.add_typer(sessions.sessions_app, name="sessions")
app.add_typer(catalogs.selectors_app, name="selectors")
app.add_typer(schedule.schedule_app, name="schedule")
app.add_typer(api.api_app, name="api")


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        app(args=argv, prog_name="robots")
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)
    except RobotsError as e:  # e.g. a bad ROBOTS_* setting read before a command's own error handling
        sys.exit(fail(e).exit_code)
    except Exception as e:  # a bug: one line naming it (exit 3, errored), the traceback only with -v
        sys.exit(fail(internal(e, "internal error")).exit_code)
