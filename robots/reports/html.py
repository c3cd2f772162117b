"""The HTML report: one self-contained page per run (inline CSS, the screenshot inlined as a data: URI,
no scripts, no external URLs), readable from a CI artifact or a mail attachment."""

from __future__ import annotations

import base64
import codecs
import json
import os
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from robots.masking import shorten
from robots.records.model import Evidence, RunRecord, StepRecord
from robots.reports._files import write_atomically

HTML_PREVIEW_BYTES = 200 * 1024
OUTPUT_PREVIEW_ROWS = 20
LOG_PREVIEW_ROWS = 500
CELL_CHARS = 2000
# Bigger screenshots are linked, not inlined: a report must stay openable in a mail client.
SCREENSHOT_INLINE_BYTES = 20 * 1024 * 1024

_IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))
# Columns shown first in console and network tables (the rest follow in the order first seen).
_LOG_COLUMNS = ("timestamp", "at", "level", "method", "status", "type", "url", "message", "error")
_FAILURE_KINDS = {"business": "business (the portal said no)", "technical": "technical",
                  "input": "input (what the flow was given: fix it and run again)",
                  "scrape_drift": "scrape drift (the page no longer fits the flow's record model)",
                  "portal_throttled": "portal throttled (it kept answering 429 Too many requests)"}


@lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    """The Jinja environment of the report templates: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_when
    env.filters["seconds"] = format_seconds
    env.filters["ms"] = format_ms
    return env


# ----- formatting shared with the dashboard


def format_when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.isoformat(sep=" ", timespec="seconds")


def format_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def cell(value: Any) -> str:
    """A value as a table cell shows it: strings as they are, anything else as compact JSON."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return shorten(text, CELL_CHARS + 1)  # (a record is masked when saved)


def table(rows: list[Any], preferred: tuple[str, ...] = ()) -> dict[str, Any]:
    """Rows (dicts, or plain values) as columns = the union of their keys, and the cells of each row."""
    columns: dict[str, None] = {}
    for row in rows:
        for key in row if isinstance(row, dict) else ("value",):
            columns.setdefault(str(key), None)
    order = [c for c in preferred if c in columns] + [c for c in columns if c not in preferred]
    body = []
    for row in rows:
        data = {str(k): v for k, v in row.items()} if isinstance(row, dict) else {"value": row}
        body.append([_log_cell(c, data[c]) if c in data else "" for c in order])
    return {"columns": order, "rows": body}


def _log_cell(column: str, value: Any) -> str:
    # Chrome logs carry epoch times: the console in milliseconds, network wallTime in seconds.
    if isinstance(value, int | float) and not isinstance(value, bool):
        if column == "timestamp" and value > 1e11:
            return datetime.fromtimestamp(value / 1000, UTC).isoformat(sep=" ", timespec="milliseconds")
        if column == "at" and value > 1e8:
            return datetime.fromtimestamp(value, UTC).isoformat(sep=" ", timespec="milliseconds")
    return cell(value)


# ----- evidence files


def _inside(run_dir: Path | None, relative: str | None) -> Path | None:
    """The evidence file `relative` if it exists inside the run folder (a record never points elsewhere)."""
    if run_dir is None or not relative:
        return None
    root = run_dir.resolve()
    path = (root / relative).resolve()
    return path if path.is_file() and path.is_relative_to(root) else None


def _href(run_dir: Path | None, relative: str | None, href_base: Path | None) -> str | None:
    if run_dir is None or not relative:
        return None
    target = run_dir / relative
    link = os.path.relpath(target, href_base) if href_base is not None else relative
    return quote(Path(link).as_posix())


def _screenshot(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {"uri": None, "note": "the screenshot file is missing"}
    size = path.stat().st_size
    if size > SCREENSHOT_INLINE_BYTES:
        return {"uri": None, "note": f"the screenshot is {size // 1024:,} KB, too big to inline; open the link"}
    data = path.read_bytes()
    mime = next((m for magic, m in _IMAGE_TYPES if data.startswith(magic)), None)
    if mime is None:
        return {"uri": None, "note": "the screenshot file is not a PNG, JPEG or GIF image"}
    return {"uri": f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", "note": None}


def _page_html(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(HTML_PREVIEW_BYTES)
    # An incremental decoder drops a character cut in half at the limit instead of showing garbage.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=size <= HTML_PREVIEW_BYTES)
    return {"text": text, "size_kb": max(1, round(size / 1024)), "truncated": size > HTML_PREVIEW_BYTES}


def _json_log(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    raw = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(raw)
    except ValueError:
        return {"table": None, "raw": raw[:HTML_PREVIEW_BYTES], "total": None, "shown": None}
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        data = next(iter(data.values()))  # {"entries": [...]}
    if not isinstance(data, list):
        return {"table": None, "raw": json.dumps(data, indent=2, ensure_ascii=False)[:HTML_PREVIEW_BYTES],
                "total": None, "shown": None}
    # The most recent entries matter most for a failure: keep the tail.
    shown = data[-LOG_PREVIEW_ROWS:]
    return {"table": table(shown, _LOG_COLUMNS), "raw": None, "total": len(data), "shown": len(shown)}


# ----- the page


def _step_row(step: StepRecord, longest: float, with_evidence: set[int]) -> dict[str, Any]:
    if step.error_class or step.error_message:
        note = f"{step.error_class}: {step.error_message}" if step.error_class else str(step.error_message)
    else:
        note = step.output_summary or ""
    return {
        "index": step.index,
        "name": step.name,
        "step_id": step.step_id,
        "status": step.status,
        "attempts": getattr(step, "attempts", None),
        "duration_ms": step.duration_ms,
        "bar": round(100 * step.duration_ms / longest, 1) if longest > 0 else 0,
        "selector": getattr(step, "selector", None),
        "drift": getattr(step, "drift", None),
        "note": note,
        "problem": bool(step.error_class or step.error_message),
        "evidence": step.index in with_evidence,
    }


def _evidence_view(item: Evidence, step: StepRecord | None, run_dir: Path | None,
                   href_base: Path | None) -> dict[str, Any]:
    files = {kind: getattr(item, kind, None) for kind in ("screenshot", "html", "console", "network")}
    return {
        "step_index": item.step_index,
        "step_name": step.name if step is not None else None,
        "url": item.url,
        "files": [{"kind": kind, "path": rel, "href": _href(run_dir, rel, href_base),
                   "found": _inside(run_dir, rel) is not None} for kind, rel in files.items() if rel],
        "screenshot": _screenshot(_inside(run_dir, files["screenshot"])) if files["screenshot"] else None,
        "html": _page_html(_inside(run_dir, files["html"])),
        "console": _json_log(_inside(run_dir, files["console"])),
        "network": _json_log(_inside(run_dir, files["network"])),
    }


def _output_view(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, list | tuple):
        rows = list(value[:OUTPUT_PREVIEW_ROWS])
        return {"name": name, "kind": "list", "count": len(value), "table": table(rows), "shown": len(rows)}
    if isinstance(value, dict):
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        if len(text) > HTML_PREVIEW_BYTES:
            text = text[:HTML_PREVIEW_BYTES] + "\n…"
        return {"name": name, "kind": "object", "text": text}
    return {"name": name, "kind": "scalar", "text": cell(value) if value is not None else "null"}


def _browser_text(browser: Any) -> str | None:
    if not browser:
        return None
    if not isinstance(browser, dict):
        return str(browser)
    text = " ".join(str(browser[k]) for k in ("kind", "version") if browser.get(k))
    parts = [text] if text else []
    if browser.get("driver_version"):
        parts.append(f"driver {browser['driver_version']}")
    parts += [f"{k} {v}" for k, v in browser.items() if k not in ("kind", "version", "driver_version") and v]
    return " · ".join(parts) or None


def report_context(record: RunRecord, run_dir: Path | None, href_base: Path | None = None) -> dict[str, Any]:
    """What the report template shows, computed from the record (fields a record lacks get defaults)."""
    steps_by_index = {step.index: step for step in record.steps}
    with_evidence = {item.step_index for item in record.evidence}
    longest = max((step.duration_ms for step in record.steps), default=0.0)
    steps = [_step_row(step, longest, with_evidence) for step in record.steps]
    return {
        "r": record,
        "status": record.status,
        "duration": record.duration_s,
        "browser": _browser_text(getattr(record, "browser", None)),
        "failure_kind": _FAILURE_KINDS.get(record.failure_kind or "", record.failure_kind),
        "steps": steps,
        "drifted": [step for step in steps if step["drift"]],
        "evidence": [_evidence_view(item, steps_by_index.get(item.step_index), run_dir, href_base)
                     for item in record.evidence],
        "outputs": [_output_view(name, value) for name, value in record.outputs.items()],
        "inputs": [(name, cell(value)) for name, value in record.inputs.items()],
        "run_dir_known": run_dir is not None,
    }


def render_html(record: RunRecord, run_dir: Path | None, *, href_base: Path | None = None) -> str:
    """The report page of `record`. Evidence files are read from `run_dir` (the record's paths are relative to
    it); links to them are relative to `href_base`, the folder the page will be saved in (default: run_dir)."""
    return template_env().get_template("report.html").render(report_context(record, run_dir, href_base))


def _run_dir_for(record: RunRecord, target: Path) -> Path | None:
    """The record's run folder; when its (relative) path does not resolve from here, the report's own folder
    if the evidence is there (a report written into the run folder, read from elsewhere)."""
    if record.run_dir and Path(record.run_dir).is_dir():
        return Path(record.run_dir)
    first = next((e.screenshot or e.html for e in record.evidence if e.screenshot or e.html), None)
    if first and (target.parent / first).is_file():
        return target.parent
    return Path(record.run_dir) if record.run_dir else None


def write_html(record: RunRecord, path: str | os.PathLike[str]) -> None:
    target = Path(path)
    run_dir = _run_dir_for(record, target)
    page = render_html(record, run_dir, href_base=target.parent.absolute() if run_dir is not None else None)
    write_atomically(target, page.encode("utf-8"))
