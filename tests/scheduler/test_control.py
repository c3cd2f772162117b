"""Cancel for runs that are not on their process's main thread (as API workers will run them): no signal reaches
them, so the guard ends the run's browser under its waiting step; the run is still recorded canceled."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from robots.engine import Runner
from robots.flow.loader import load_flow
from robots.portals import open_portal
from robots.records import MemoryStore
from robots.testing import tracked_pids_alive
from scheduler.helpers import FLOWS, wait_until

pytestmark = pytest.mark.browser


def test_a_run_on_a_worker_thread_is_canceled_inside_its_wait(sandbox, tmp_path: Path) -> None:
    store = MemoryStore()
    flow = load_flow(FLOWS / "hold.yaml")
    result: dict[str, object] = {}

    def work() -> None:
        with open_portal("sera", url=sandbox.url) as portal:
            result["record"] = Runner(store=store, home=tmp_path, trigger="api").run(flow, portal=portal,
                                                                                       run_id="worker-run")

    worker = threading.Thread(target=work)
    worker.start()
    run_dir = tmp_path / "runs" / "worker-run"
    wait_until(lambda: (run_dir / "processes.json").exists() and "chrome" in (run_dir / "processes.json").read_text()
               and [s for s in store.get("worker-run").steps if s.status == "passed"], 120,
               "the run to wait in its second step")
    store.request_cancel("worker-run", "the API")
    worker.join(120)
    assert not worker.is_alive()  # its wait (300 s) was cut short
    record = result["record"]
    assert (record.status, record.error_class, record.error_message) == (  # type: ignore[attr-defined]
        "canceled", "Canceled", "canceled by the API")
    assert tracked_pids_alive(run_dir) == []
