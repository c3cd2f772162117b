"""The dashboard: one self-contained HTML page over many runs (per flow: pass rate, durations over time as
an inline SVG chart, the most frequent errors, selector drift per day). No scripts, no external URLs."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from robots.records.model import RunRecord
from robots.reports.html import format_seconds, format_when, template_env

TOP_ERRORS = 10
CHART_WIDTH, CHART_HEIGHT = 640, 160
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 48, 12, 10, 22
# Runs that neither passed nor failed do not count in a pass rate: still running, or skipped on purpose.
UNDECIDED = frozenset({"running", "skipped"})
STATUS_COLORS = {"passed": "#1a7f37", "failed": "#cf222e", "errored": "#bc4c00", "interrupted": "#9a6700",
                 "canceled": "#6e7781", "skipped": "#6e7781", "running": "#0969da"}
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


def error_signature(message: str | None) -> str:
    """The message with every number replaced by '#', so that 'row 12' and 'row 13' count as one error."""
    return _NUMBER.sub("#", " ".join((message or "").split()))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _chart(runs: list[RunRecord], since: datetime, now: datetime) -> dict[str, Any]:
    """One point per run that has a duration, at (start time, duration); the SVG itself is in the template."""
    timed = [r for r in runs if r.duration_s is not None]
    top = max((r.duration_s or 0.0 for r in timed), default=0.0)
    top = top * 1.1 or 1.0
    span = max((now - since).total_seconds(), 1.0)
    inner_w = CHART_WIDTH - _PAD_LEFT - _PAD_RIGHT
    inner_h = CHART_HEIGHT - _PAD_TOP - _PAD_BOTTOM
    points = []
    for r in sorted(timed, key=lambda r: r.started_at):
        offset = min(max((_utc(r.started_at) - since).total_seconds(), 0.0), span)
        points.append({
            "x": round(_PAD_LEFT + inner_w * offset / span, 1),
            "y": round(_PAD_TOP + inner_h * (1 - (r.duration_s or 0.0) / top), 1),
            "color": STATUS_COLORS.get(r.status, "#6e7781"),
            "title": f"{r.run_id} · {r.status} · {format_seconds(r.duration_s)} · {format_when(_utc(r.started_at))}",
            "run_id": r.run_id,
        })
    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT,
        "left": _PAD_LEFT, "right": CHART_WIDTH - _PAD_RIGHT, "top": _PAD_TOP, "bottom": CHART_HEIGHT - _PAD_BOTTOM,
        "top_label": format_seconds(top), "since_label": since.strftime("%b %d %H:%M"),
        "now_label": now.strftime("%b %d %H:%M"),
        "points": points, "line": " ".join(f"{p['x']},{p['y']}" for p in points),
    }


def _flow_summary(name: str, runs: list[RunRecord], since: datetime, now: datetime) -> dict[str, Any]:
    counts = Counter(r.status for r in runs)
    decided = sum(n for status, n in counts.items() if status not in UNDECIDED)
    durations = [r.duration_s for r in runs if r.duration_s is not None]
    return {
        "name": name,
        "runs": len(runs),
        "passed": counts["passed"],
        "decided": decided,
        "pass_rate": f"{100 * counts['passed'] / decided:.0f}%" if decided else "—",
        "median": format_seconds(statistics.median(durations)) if durations else "—",
        "p95": format_seconds(percentile(durations, 0.95)) if durations else "—",
        "statuses": sorted(counts.items()),
        "last": max(runs, key=lambda r: (_utc(r.started_at), r.run_id)),
        "chart": _chart(runs, since, now),
    }


def _errors(runs: list[RunRecord]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
    for r in runs:
        if r.error_class or r.error_message:
            groups[(r.error_class or "", error_signature(r.error_message))].append(r)
    ranked = []
    for (error_class, signature), members in groups.items():
        last = max(members, key=lambda r: (_utc(r.started_at), r.run_id))
        # Most frequent first; among equals, the one seen last.
        rank = (-len(members), -_utc(last.started_at).timestamp(), error_class, signature)
        ranked.append((rank, {"error_class": error_class, "signature": signature, "count": len(members),
                              "last_run": last.run_id, "last_at": _utc(last.started_at),
                              "last_message": last.error_message, "flows": sorted({r.flow_name for r in members})}))
    ranked.sort(key=lambda item: item[0])
    return [row for _, row in ranked[:TOP_ERRORS]]


def _drift_days(runs: list[RunRecord], since: datetime, now: datetime) -> list[dict[str, Any]]:
    """Drifted steps per UTC day, every day from `since` to `now` (days without drift show 0)."""
    per_day: Counter[date] = Counter()
    for r in runs:
        for step in r.steps:
            if getattr(step, "drift", None):
                per_day[_utc(step.started_at).date()] += 1
    first, last = since.date(), now.date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    top = max(per_day.values(), default=0) or 1
    return [{"day": day.isoformat(), "count": per_day[day], "bar": round(100 * per_day[day] / top, 1)}
            for day in days]


def render_dashboard(records: list[RunRecord], *, since: datetime, now: datetime) -> str:
    """The dashboard page of the runs started from `since` to `now` (others in `records` are left out).
    Naive datetimes are taken as UTC; days are UTC days."""
    since, now = _utc(since), _utc(now)
    runs = [r for r in records if since <= _utc(r.started_at) <= now]
    by_flow: dict[str, list[RunRecord]] = defaultdict(list)
    for r in runs:
        by_flow[r.flow_name].append(r)
    flows = [_flow_summary(name, by_flow[name], since, now) for name in sorted(by_flow)]
    drift = _drift_days(runs, since, now)
    context = {
        "since": since, "now": now, "runs": len(runs), "flows": flows,
        "passed": sum(1 for r in runs if r.status == "passed"),
        "decided": sum(1 for r in runs if r.status not in UNDECIDED),
        "errors": _errors(runs),
        "drift": drift, "drift_total": sum(d["count"] for d in drift),
    }
    return template_env().get_template("dashboard.html").render(context)
