"""100 short runs in one process: does the runner's memory stay flat, and is every browser ended?

    .venv/bin/python bench/run_memory.py [--runs 100]

Runs tests/browser/flows/sign_in_page.yaml (every fifth run made to fail) through the in-process Runner
against the bundled sandbox, with a real SQLite record store, and prints the runner's RSS every 10 runs and
the number of tracked processes left alive (must be 0)."""

from __future__ import annotations

import argparse
import gc
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    from robots import load_flow
    from robots.engine import Runner
    from robots.portals import open_portal
    from robots.records import SqlStore
    from robots.testing import tracked_pids_alive

    flow = load_flow(ROOT / "tests/browser/flows/sign_in_page.yaml")
    home = Path(tempfile.mkdtemp(prefix="robots-bench-"))
    store = SqlStore(f"sqlite:///{home}/robots.db")
    left_alive = 0
    statuses: dict[str, int] = {}
    rows = []
    with open_portal("sera", sandbox_size="small") as portal:
        runner = Runner(store=store, home=home, trigger="test")
        t0 = time.monotonic()
        for n in range(1, args.runs + 1):
            expect = "Sign in" if n % 5 else "Not on this page"
            record = runner.run(flow, vars={"expect": expect}, portal=portal)
            statuses[record.status] = statuses.get(record.status, 0) + 1
            left_alive += len(tracked_pids_alive(Path(record.run_dir or "")))
            if n == 1 or n % 10 == 0:
                gc.collect()
                rows.append((n, rss_mb(), time.monotonic() - t0))
                print(f"run {n:4d}  rss {rows[-1][1]:7.1f} MB  elapsed {rows[-1][2]:6.1f} s", flush=True)
    store.close()
    first10 = next(r for r in rows if r[0] >= 10)
    print(f"\nstatuses: {statuses}")
    print(f"tracked processes left alive after all runs: {left_alive}")
    print(f"RSS after run 10: {first10[1]:.1f} MB; after run {rows[-1][0]}: {rows[-1][1]:.1f} MB; "
          f"ratio {rows[-1][1] / first10[1]:.3f}; peak (maxrss) "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")
    print(f"mean seconds per run: {rows[-1][2] / rows[-1][0]:.2f}")


if __name__ == "__main__":
    main()
