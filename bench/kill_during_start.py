"""kill -9 during a browser's start, 100 times: does the orphan sweep leave none of the processes a try started?

    .venv/bin/python bench/kill_during_start.py [--tries 100]

The same tries as tests/browser/test_kill_during_start.py (which runs 30 of them to keep the suite's time):
each starts Chromium the way a run does, is killed with SIGKILL at a moment spread over the first 400 ms of the
start, and is followed by the sweep `robots run` begins with. Prints the tries that left processes (must be none)
and exits 1 if any did."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=100)
    args = parser.parse_args()
    from tests.browser.test_kill_during_start import run_tries

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="robots-kill-bench-") as home:
        left = run_tries(Path(home), args.tries)
    print(f"{args.tries} tries in {time.monotonic() - t0:.0f} s; tries that left processes: {len(left)}")
    for name, alive in left.items():
        print(f"  {name}: {alive}")
    sys.exit(1 if left else 0)


if __name__ == "__main__":
    main()
