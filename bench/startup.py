"""The CLI's own start-up: `robots run` from the process's start to its flow's first step, against `python -c pass`,
side by side in one run (docs/CONTRACTS.md C7).

    .venv/bin/python bench/startup.py [--repeats 7]

Both are started the same way (subprocess, this interpreter, a fresh ROBOTS_HOME and SQLite database per run).
The flow's first step is a `set` (no browser, no portal): what is measured is the CLI's imports, settings, the
record store and the flow's loading. The first step's start comes from the run's own record; the process's start
is taken just before it is spawned. Medians of `--repeats`, interleaved (python, robots, python, ...).

Target (issue 17): import to first step <= 0.5 s over `python -c pass`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOW = "name: startup\nsteps:\n  - set: {x: 1}\n  - set: {y: 2}\n"


def python_pass() -> float:
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.time() - t0


def robots_run(folder: Path) -> tuple[float, float]:
    """(seconds to the first step, seconds to the process's end) of one `robots run`."""
    from robots.records import open_store

    home = Path(tempfile.mkdtemp(dir=folder))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOTS_")}
    env.update({"ROBOTS_HOME": str(home), "ROBOTS_DATABASE_URL": f"sqlite:///{home}/robots.db"})
    flow = folder / "startup.yaml"
    t0 = time.time()
    subprocess.run([sys.executable, "-m", "robots.cli", "run", str(flow)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    total = time.time() - t0
    store = open_store(f"sqlite:///{home}/robots.db")
    try:
        (run,) = store.list()
        first: datetime = store.get(run.run_id).steps[0].started_at
    finally:
        store.close()
    return first.timestamp() - t0, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    opts = parser.parse_args()
    base: list[float] = []
    first: list[float] = []
    whole: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "startup.yaml").write_text(FLOW, encoding="utf-8")
        python_pass()
        robots_run(folder)  # warm-up (the file cache), not counted
        for _ in range(opts.repeats):
            base.append(python_pass())
            to_first, total = robots_run(folder)
            first.append(to_first)
            whole.append(total)
    b, f, w = statistics.median(base), statistics.median(first), statistics.median(whole)
    print(f"CLI start-up, medians of {opts.repeats} (interleaved), load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"python -c pass                  {b:6.3f} s   ({', '.join(f'{x:.3f}' for x in base)})")
    print(f"robots run: start to 1st step   {f:6.3f} s   ({', '.join(f'{x:.3f}' for x in first)})")
    print(f"robots run: start to exit       {w:6.3f} s   ({', '.join(f'{x:.3f}' for x in whole)})")
    print(f"over python -c pass: {f - b:.3f} s to the first step (target <= 0.5 s), {w - b:.3f} s to exit")


if __name__ == "__main__":
    main()
