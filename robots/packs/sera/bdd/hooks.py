"""pytest-bdd hooks: the unknown-step message and the report's events (ROBOTS_BDD_EVENTS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from robots.packs.sera.bdd.world import _STATE, UnknownStep, closest_steps
from robots.settings import settings

# -- hooks: the unknown-step message and the report's events ------------------------------------------------


def pytest_bdd_before_scenario(request: Any, feature: Any, scenario: Any) -> None:
    _STATE["scenario_steps"] = [s.name for s in scenario.steps]  # the world fixture is made by the first step
    _event({"event": "scenario", "feature": feature.name, "file": _where(feature), "scenario": scenario.name,
            "line": scenario.line_number, "tags": sorted(scenario.tags), "nodeid": request.node.nodeid,
            "steps": [[step.keyword, step.name] for step in scenario.steps]})


def pytest_bdd_after_step(request: Any, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: Any) -> None:
    _event({"event": "step", "keyword": step.keyword, "text": step.name, "line": step.line_number, "status": "passed",
            "table": _table(step)})


def pytest_bdd_step_error(request: Any, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: Any, exception: Exception) -> None:
    world = _STATE.get("world")
    shot: str | None = None
    if world is not None and world.record is not None and world.record.run_dir:
        shots = [e.screenshot for e in world.record.evidence if e.screenshot]
        shot = str(Path(world.record.run_dir) / shots[0]) if shots else None
    _event({"event": "step", "keyword": step.keyword, "text": step.name, "line": step.line_number, "status": "failed",
            "table": _table(step), "error": _words(exception), "screenshot": shot,
            "run_id": world.record.run_id if world is not None and world.record is not None else None})


def pytest_bdd_step_func_lookup_error(request: Any, feature: Any, scenario: Any, step: Any,
                                      exception: Exception) -> None:
    near = closest_steps(step.name, step.type)
    listing = "".join(f"\n  {line}" for line in near) or " (none close; `robots bdd steps` lists them all)"
    message = (f'unknown step: {step.keyword} {step.name} ({_where(feature)}:{step.line_number}, scenario '
               f'"{scenario.name}"); the closest known steps:{listing}')
    _event({"event": "step", "keyword": step.keyword, "text": step.name, "line": step.line_number,
            "status": "undefined", "error": message})
    raise UnknownStep(message)


def pytest_bdd_apply_tag(tag: str, function: Any) -> None:
    """Registers a feature's tag as a pytest marker first, so that `--strict-markers` suites accept any tag
    (`robots bdd --tags` selects by them); pytest-bdd's own hook then applies it."""
    from pytest_bdd.utils import CONFIG_STACK

    if CONFIG_STACK:
        config = CONFIG_STACK[-1]
        if tag not in {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}:
            config.addinivalue_line("markers", f"{tag}: a Gherkin tag")


def _words(exception: BaseException) -> str:
    """A failed step's error: an assertion's own words (the feature's: expected and actual); any other exception
    named by its class (a step that broke)."""
    if isinstance(exception, AssertionError) and str(exception):
        return str(exception)
    return f"{type(exception).__name__}: {exception}"


def _table(step: Any) -> list[list[str]] | None:
    return step.datatable.raw() if step.datatable is not None else None


def _where(feature: Any) -> str:
    """A feature file's path as the user wrote it: relative to the working folder when inside it."""
    path = Path(feature.filename)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _event(data: dict[str, Any]) -> None:
    target = settings().bdd_events
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps(data) + "\n")
