"""What scheduling costs a robot, measured side by side in one run (no browser: the flow only logs).

    .venv/bin/python bench/scheduler.py [--repeats 3] [--fires 5]

Prints the medians of: `robots run FLOW` (one CLI process), `robots schedule trigger NAME` (the scheduler's
path: a CLI process plus the run's own child process, records, notifications) and their ratio; then, with
`robots schedule run` going, the delay from each fire time to the run's start and end, over --fires fires."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fires", type=int, default=5)
    args = parser.parse_args()

    from scheduler.helpers import FLOWS, SchedulerProcess, robot_runs, robots_cli, wait_until

    with tempfile.TemporaryDirectory() as tmp:
        home, schedule = Path(tmp) / "home", Path(tmp) / "robots.yaml"
        schedule.write_text(f"- name: ticker\n  flow: {FLOWS}/note.yaml\n  trigger: {{interval: 5}}\n"
                            "  misfire_grace: 60\n")
        assert SchedulerProcess(schedule, home).stop() == 0  # registers the robot

        def timed(argv: list[str]) -> float:
            t0 = time.perf_counter()
            done = robots_cli(argv, home)
            assert done.returncode == 0, done.stderr
            return time.perf_counter() - t0

        direct, triggered = [], []
        for _ in range(args.repeats):  # interleaved, so that both see the same machine load
            direct.append(timed(["run", str(FLOWS / "note.yaml")]))
            triggered.append(timed(["schedule", "trigger", "ticker"]))
        d, t = statistics.median(direct), statistics.median(triggered)
        print(f"robots run note.yaml             median {d:.2f} s over {args.repeats}")
        print(f"robots schedule trigger ticker   median {t:.2f} s over {args.repeats}   ratio {t / d:.2f}x")

        before = len(robot_runs(home, "ticker"))
        sched = SchedulerProcess(schedule, home)
        try:
            wait_until(lambda: len([1 for row, r in robot_runs(home, "ticker")[before:]
                                    if r.status == "passed"]) >= args.fires, 60 + 10 * args.fires,
                       f"{args.fires} scheduled runs")
        finally:
            sched.stop()
        fired = [(row, r) for row, r in robot_runs(home, "ticker")[before:] if r.status == "passed"][:args.fires]
        start = [(r.started_at - row.scheduled_for).total_seconds() for row, r in fired]
        end = [((r.ended_at or r.started_at) - row.scheduled_for).total_seconds() for row, r in fired]
        print(f"fire time -> run started (record) median {statistics.median(start):.2f} s, "
              f"-> run ended median {statistics.median(end):.2f} s, over {len(fired)} fires")


if __name__ == "__main__":
    main()
