"""What a run leaves behind: its record (saved to the store while it runs and at the end), one line per step,
and the evidence of a failed step (screenshot, page source, console and network logs)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from robots.locators import Selector
from robots.masking import Masker, shorten
from robots.records.model import ErrorLocation, Evidence, RunRecord, RunStatus
from robots.run.state import RunState

#: at most this many seconds between saves of a running record while steps inside blocks finish
SAVE_EVERY = 1.0


def evidence(state: RunState, index: int) -> None:
    """Save what the browser shows now as the evidence of step `index` (nothing without a browser)."""
    browser = state.browser
    if browser is None:
        return
    ev_dir = state.run_dir / "evidence"
    ev_dir.mkdir(exist_ok=True)
    stem = f"step-{index:03d}"
    png = browser.screenshot_png(state.masker.values)
    shot = html = None
    if png:
        (ev_dir / f"{stem}.png").write_bytes(png)
        shot = f"evidence/{stem}.png"
    source = browser.page_source()
    if source is not None:
        (ev_dir / f"{stem}.html").write_text(state.masker(source), encoding="utf-8")
        html = f"evidence/{stem}.html"
    logs: dict[str, str | None] = {}
    for kind, entries in (("console", browser.console_log()), ("network", browser.network_log())):
        path = ev_dir / f"{stem}.{kind}.json"
        path.write_text(state.masker(json.dumps(entries, indent=1, ensure_ascii=False)), encoding="utf-8")
        logs[kind] = f"evidence/{path.name}"
    state.evidence.append(Evidence(step_index=index, screenshot=shot, html=html,
                                   url=state.masker(browser.url) or None, **logs))


def save(state: RunState, status: RunStatus, error: BaseException | None = None) -> RunRecord:
    """The run's record as it is now, saved to the run's store (when it has one)."""
    ended = None if status == "running" else datetime.now(UTC)
    m = state.masker
    record = RunRecord(
        run_id=state.run_id, flow_name=state.flow.name, flow_path=str(state.flow.path),
        flow_sha256=state.flow.sha256, trigger=state.trigger,  # type: ignore[arg-type]
        portal_url=state.portal.url if state.portal else None, browser=state.browser_info,
        inputs=m.deep(state.vars),
        status=status,
        started_at=state.started_at, ended_at=ended,
        steps=tuple(sorted(state.steps, key=lambda s: s.index)),
        outputs=m.deep(state.outputs) if status != "running" else {},
        error_class=type(error).__name__ if error else None,
        error_message=m(str(error)) if error else None,
        failure_kind=getattr(error, "failure_kind", None) if error else None,
        error_location=_location(error),
        evidence=tuple(state.evidence), run_dir=str(state.run_dir), pages=state.pages, rows=state.rows,
        dry_run=state.dry.report(m) if state.dry is not None else None,
    )
    if state.store is not None:
        state.store.save(record)
    state.saved_at = time.monotonic()
    return record


def _location(error: BaseException | None) -> ErrorLocation | None:
    where = getattr(error, "location", None)
    return ErrorLocation(file=where.file, line=where.line, step=where.step) if where is not None else None


def drift(matches: list[tuple[Selector, int]]) -> str | None:
    """'name: matched fallback C after A, B failed' for each selector that needed a fallback."""
    seen: dict[str, str] = {}
    for sel, idx in matches:
        if idx and sel.name not in seen:
            failed = ", ".join(str(c) for c in sel.candidates[:idx])
            seen[sel.name] = f"{sel.name}: matched fallback {sel.candidates[idx]} after {failed} failed"
    return "; ".join(seen.values()) or None


def summary(result: Any, masker: Masker) -> str | None:
    """A step's output in a few words for its record: masked, then cut (never the other way round)."""
    if result is None:
        return None
    if isinstance(result, list):
        return f"{len(result)} items"
    if isinstance(result, dict):
        return f"{len(result)} fields"
    return shorten(str(result), 80, masker)


__all__ = ["SAVE_EVERY", "drift", "evidence", "save", "summary"]
