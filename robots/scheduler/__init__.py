"""Unattended robots (issue 8): schedule files, the APScheduler 3 scheduler with its SQL job store, and the
one path every robot run takes. The CLI is robots/scheduler/cli.py (`robots schedule ...`)."""

from robots.scheduler.config import Robot, load_schedule, load_schedules
from robots.scheduler.service import RobotRunner, RobotScheduler

__all__ = ["Robot", "RobotRunner", "RobotScheduler", "load_schedule", "load_schedules"]
