"""Where `robots run` puts a flow's outputs: stdout as JSON or a table (--format), or a file (--output: .json,
.jsonl or .csv), checked before the run starts and written atomically after it."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from robots.cli.common import out
from robots.errors import InputError

__all__ = ["OUTPUT_TYPES", "cell", "check_output", "check_output_fits", "declared_columns", "main_list", "print_table",
           "write_csv", "write_outputs"]

#: the file types --output writes
OUTPUT_TYPES = (".json", ".jsonl", ".csv")


def check_output(output: Path) -> None:
    """--output, checked before the run starts: a file type it writes, in a folder where it can be made."""
    from robots.output_files import check_target

    if output.suffix.lower() not in OUTPUT_TYPES:
        raise InputError(f"--output: unknown file type {output.suffix.lower()!r}; use .json, .jsonl or .csv")
    check_target(output, f"--output {output}")


def write_outputs(outputs: dict[str, Any], fmt: str, output: Path | None, columns: list[str] | None = None) -> None:
    """`columns`: a CSV's header when the list has no rows (declared_columns), so that an empty result is still a
    table a reader can open."""
    if output is not None:
        from robots.output_files import write_atomically

        suffix = output.suffix.lower()
        if suffix == ".json":
            text = json.dumps(outputs, indent=2, ensure_ascii=False) + "\n"
        else:
            rows = main_list(outputs)
            f = io.StringIO(newline="")
            if suffix == ".jsonl":
                for row in rows:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                write_csv(f, rows, columns)
            text = f.getvalue()
        # A new file beside the target, renamed over it: nothing planted there (a symlink) is written through.
        write_atomically(output, text.encode("utf-8"), make_dirs=False)
        return
    if fmt == "table":
        print_table(outputs)
    else:
        sys.stdout.write(json.dumps(outputs, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def check_output_fits(flow: Any, output: Path) -> None:
    """A .jsonl/.csv file holds one list: a flow whose declared output types say it returns none, or several, is
    refused before it runs (an output without a declared type is checked when the run has returned it)."""
    if output.suffix.lower() not in (".jsonl", ".csv"):
        return
    kinds = {name: spec.type for name, spec in flow.outputs.items()}
    lists = [name for name, kind in kinds.items() if kind == "list"]
    if len(lists) > 1 or (not lists and None not in kinds.values()):
        said = f"declares {len(lists)} ({', '.join(lists)})" if lists else "declares none"
        raise InputError(f"--output {output}: a {output.suffix.lower()} file holds one list output, and "
                         f"{flow.path} {said}; use a .json file")


_STEP_OUTPUT = re.compile(r"^\{\{\s*steps\.([A-Za-z_][A-Za-z0-9_]*)\.output\s*\}\}$")


def declared_columns(flow: Any) -> list[str]:
    """The columns of the rows of a flow's one list output, as its steps declare them: the output's `set_output:
    {name: "{{ steps.ID.output }}"}` followed to the step that reads the rows (through a paginate's or for_each's
    `collect`), then that step's record model (`record:`, its fields) or its field map (`fields:`, plus the
    source_url and scraped_at every row gets). [] when the flow does not say."""
    from robots.flow.loader import _walk
    from robots.scrape import contracts

    lists = [name for name, spec in flow.outputs.items() if spec.type == "list"]
    if len(lists) != 1:
        return []
    calls = list(_walk((*flow.steps, *flow.finally_steps)))
    by_id = {c.args.id: c for c in calls if c.args.id}
    ref = next((c.args.values()[lists[0]] for c in calls if c.kind == "set_output" and lists[0] in c.args.values()),
               None)
    seen: set[str] = set()
    while isinstance(ref, str) and (m := _STEP_OUTPUT.match(ref.strip())) and m.group(1) not in seen:
        seen.add(m.group(1))
        call = by_id.get(m.group(1))
        if call is None:
            return []
        collect = getattr(call.args, "collect", None)
        if isinstance(collect, str):
            ref = "{{ steps." + collect + ".output }}"
            continue
        record, fields = getattr(call.args, "record", None), getattr(call.args, "fields", None)
        if isinstance(record, str):
            model = contracts.model(record, flow.path.parent.resolve())
            return [info.alias or name for name, info in model.model_fields.items()]
        if isinstance(fields, dict):
            return [*fields, "source_url", "scraped_at"]
        return []
    return []


def main_list(outputs: dict[str, Any]) -> list[Any]:
    lists = [v for v in outputs.values() if isinstance(v, list)]
    if len(lists) != 1:
        raise InputError("--output .jsonl/.csv needs a flow with exactly one list output")
    return lists[0]


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_csv(f: io.TextIOBase, rows: list[Any], columns: list[str] | None = None) -> None:
    """The rows under a header of their keys in first-seen order; with no rows, the header is `columns`."""
    keys: list[str] = [] if rows else list(columns or [])
    for row in rows:
        for k in row:
            if k not in keys:
                keys.append(k)
    w = csv.DictWriter(f, fieldnames=keys)
    w.writeheader()
    for row in rows:
        w.writerow({k: cell(row.get(k)) for k in keys})


def print_table(outputs: dict[str, Any]) -> None:
    console = out()
    for name, value in outputs.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            keys = [k for k in value[0] if k not in ("source_url", "scraped_at") and not k.startswith("raw_")]
            keys = [k for k in keys if any(r.get(k) not in (None, []) for r in value)]
            table = Table(title=f"{name} ({len(value)})", show_lines=False)
            for k in keys:
                table.add_column(k, overflow="fold", justify="right" if k.endswith("_cents") else "left")
            for row in value:
                table.add_row(*(cell(row.get(k)) for k in keys))
            console.print(table)
        else:
            console.print(f"{name}: {cell(value)}")
