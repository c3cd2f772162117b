"""The Gherkin step library for QA: pytest-bdd steps that run Sera flows against the sandbox and check what came out.

Use it from `.feature` files alone: bind them with `scenarios("features/")` in a test module and load the steps
with `from robots.packs.sera.bdd import *` in a conftest (or `pytest_plugins = ["robots.packs.sera.bdd"]` in the
root conftest). `robots bdd` does both for you; `robots bdd steps` lists every step with an example.

The steps live in this package's modules, in the order `robots bdd steps` lists them: given.py, runs.py,
outputs.py, robots_api.py; the world they share in world.py, pytest-bdd's hooks in hooks.py.
"""

from __future__ import annotations

from robots.packs.sera.bdd import given, outputs, robots_api, runs
from robots.packs.sera.bdd.given import *  # noqa: F403
from robots.packs.sera.bdd.hooks import (
    pytest_bdd_after_step,
    pytest_bdd_apply_tag,
    pytest_bdd_before_scenario,
    pytest_bdd_step_error,
    pytest_bdd_step_func_lookup_error,
)
from robots.packs.sera.bdd.outputs import *  # noqa: F403
from robots.packs.sera.bdd.robots_api import *  # noqa: F403
from robots.packs.sera.bdd.runs import *  # noqa: F403
from robots.packs.sera.bdd.world import (
    BASE_ENV,
    EVENTS_ENV,
    PORTAL_URL_ENV,
    STEPS,
    StepDoc,
    UnknownStep,
    World,
    closest_steps,
    robots_bdd,
    robots_bdd_home,
    robots_bdd_portal,
)

pytest_plugins = ["robots.packs.sera.fixtures"]

__all__ = ["BASE_ENV", "EVENTS_ENV", "PORTAL_URL_ENV", "STEPS", "StepDoc", "UnknownStep", "World", "closest_steps",
           "robots_bdd", "robots_bdd_home", "robots_bdd_portal", "pytest_bdd_before_scenario", "pytest_bdd_after_step",
           "pytest_bdd_step_error", "pytest_bdd_step_func_lookup_error", "pytest_bdd_apply_tag",
           *given.__all__, *runs.__all__, *outputs.__all__, *robots_api.__all__]
