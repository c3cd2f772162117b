"""Running a flow: the runner loop (runner), the run's state and templates (state), what a step sees
(context), the life of one step as a chain of wrappers (lifecycle), portal sessions (sessions), the portal's
429 (throttling), and the run record and evidence (record)."""

from robots.run.context import RunContext
from robots.run.runner import Runner
from robots.run.sessions import SessionLost
from robots.run.state import Listener, exit_code, new_run_id

__all__ = ["Listener", "RunContext", "Runner", "SessionLost", "exit_code", "new_run_id"]
