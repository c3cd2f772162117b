"""The flow tools, none of which starts a browser: `robots validate`, `explain`, `steps` and `schema`.
Registered by robots/cli/__init__.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from robots.cli.common import err, fail
from robots.errors import FlowError, RobotsError


def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write to this file (default: stdout)")] = None,
) -> None:
    """The JSON Schema of flow files, for editors (VS Code: `yaml.schemas` or `# yaml-language-server: $schema=`)."""
    from robots.flow.schema import flow_schema

    _plugins()
    text = json.dumps(flow_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        from robots.output_files import write_atomically

        write_atomically(output, text.encode("utf-8"), make_dirs=False)
        err.print(f"wrote {output}", markup=False)


def _plugins() -> None:
    """The steps of installed distributions and packs (robots.steps.plugins), or their error, printed."""
    from robots.steps.plugins import load_plugins

    try:
        load_plugins()
    except RobotsError as e:
        raise fail(e) from None


def _text_or_markdown(format: str) -> None:
    if format not in ("text", "markdown"):
        err.print(f"error: --format is text or markdown, not {format!r}", markup=False)
        raise typer.Exit(2)


def steps(
    format: Annotated[str, typer.Option("--format", help="text or markdown")] = "text",
) -> None:
    """The step reference: every step, its arguments, the options every step takes, and an example."""
    from robots.flow.reference import step_reference

    _text_or_markdown(format)
    _plugins()
    sys.stdout.write(step_reference(format))  # type: ignore[arg-type]


def settings(
    format: Annotated[str, typer.Option("--format", help="text or markdown")] = "text",
) -> None:
    """Every ROBOTS_* environment variable: its default and meaning (README.md's table is the markdown)."""
    from robots.settings import settings_table

    _text_or_markdown(format)
    sys.stdout.write(settings_table(format))


def explain(flow: Annotated[Path, typer.Argument(
        help="the flow file (YAML), or <pack>/<flow> for a flow a portal pack ships")]) -> None:
    """Show a flow's steps as the runner will see them, with every selector resolved to its candidates."""
    from robots.flow.explain import explain as explain_flow
    from robots.flow.loader import load_flow

    try:
        loaded = load_flow(flow)
    except RobotsError as e:
        raise fail(e) from None
    sys.stdout.write(explain_flow(loaded))


# ---------------------------------------------------------------------------------------- validate
def validate(
    flows: Annotated[list[Path], typer.Argument(help="flow files or folders, or <pack>/<flow> names")],
    format: Annotated[str, typer.Option("--format", help="text, or json (for editors and CI) on stdout")] = "text",
) -> None:
    """Check flows without starting a browser: YAML, steps, arguments, selectors and templates."""
    from robots.flow.loader import load_flow, one_pass

    if format not in ("text", "json"):
        err.print(f"error: --format is text or json, not {format!r}", markup=False)
        raise typer.Exit(2)
    _plugins()
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
