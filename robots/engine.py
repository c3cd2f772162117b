"""Kept for importers: the names `robots.engine` offered before the runner became the package robots.run
(front ends, tests, benchmarks and users' scripts import them from here). New code imports from their homes:
robots.run (Runner, Listener, SessionLost, new_run_id, exit_code), robots.flow.vars (resolve_vars, step_range)
and, for a step's annotations, robots.steps.context.StepContext."""

from robots.flow.vars import resolve_vars, step_range
from robots.run.context import RunContext as StepContext
from robots.run.runner import Runner
from robots.run.sessions import SessionLost
from robots.run.state import Listener, exit_code, new_run_id

__all__ = ["Listener", "Runner", "SessionLost", "StepContext", "exit_code", "new_run_id", "resolve_vars",
           "step_range"]
