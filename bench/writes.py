"""Safe writes under faults (docs/CONTRACTS.md C7): 50 customer creates with the slow-commit and 500 faults on.

    .venv/bin/python bench/writes.py [--count 50] [--baseline-count 10] [--percent 20] [--slow-ms 9000]

Runs tests/packs/sera/flows/create_customers.yaml (which calls flows/sera/create_customer.yaml once per customer),
with create_customer.yaml's page-load timeout (8 s; the test file's own 3 s keeps the test short), through the
in-process Runner against a sandbox server on loopback, once without faults (--baseline-count creates, for the time
per create) and once (--count creates) with `slow_commit` (committed, answered after --slow-ms, longer than the
flow's 8 s page-load timeout) and `server_error` (the 500 page, nothing saved), each on --percent of the requests to
/customers/new. Prints the records created against those expected (from the sandbox's write counter), the ambiguous
outcomes seen (from its request log), the submits the flow made, and the time per create in each run.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--baseline-count", type=int, default=10, help="creates without faults (time per create)")
    parser.add_argument("--percent", type=float, default=20)
    parser.add_argument("--slow-ms", type=int, default=9000)
    args = parser.parse_args()

    from robots import load_flow
    from robots.engine import Runner
    from robots.packs.sera.sandbox import SandboxServer, credentials
    from robots.portals import open_portal
    from robots.records import SqlStore

    creds = credentials()
    secrets = {"sera_username": creds["username"], "sera_password": creds["password"],
               "sera_totp": creds["totp_secret"], "sera_mfa_to": ""}  # fmt: skip
    batch = load_flow(ROOT / "tests" / "packs" / "sera" / "flows" / "create_customers.yaml")
    page_load = load_flow(ROOT / "flows" / "sera" / "create_customer.yaml").timeouts.page_load
    flow = dataclasses.replace(batch, timeouts=batch.timeouts.model_copy(update={"page_load": page_load}))
    home = Path(tempfile.mkdtemp(prefix="robots-bench-writes-"))
    store = SqlStore(f"sqlite:///{home}/robots.db")
    server = SandboxServer(size="default").start()
    faults = [{"name": "slow_commit", "ms": args.slow_ms, "percent": args.percent, "seed": 11,
               "paths": ["/customers/new"]},
              {"name": "server_error", "percent": args.percent, "seed": 12, "paths": ["/customers/new"]}]  # fmt: skip
    results = {}
    try:
        with open_portal("sera", url=server.url) as portal, httpx.Client(base_url=server.url) as control:
            runner = Runner(store=store, home=home, trigger="test")
            for label, switched, count in (("no faults", [], args.baseline_count), ("faults on", faults, args.count)):
                server.reset()
                if switched:
                    control.post("/_sandbox/faults", json={"faults": switched}).raise_for_status()
                record = runner.run(flow, vars={"count": count, "label": label.split()[0]}, secrets=secrets,
                                    portal=portal)  # fmt: skip
                if record.status != "passed":
                    raise SystemExit(f"{label}: run {record.status}: {record.error_message}")
                seconds = (record.ended_at - record.started_at).total_seconds()
                created = control.get("/_sandbox/writes").json()["writes"]["acme"].get("customers", 0)
                posts = [e for e in control.get("/_sandbox/requests").json()
                         if e["method"] == "POST" and e["path"] == "/customers/new"]  # fmt: skip
                slow = sum("slow_commit" in e.get("faults", []) for e in posts)
                errors = sum(e["status"] == 500 for e in posts)
                results[label] = seconds / count
                print(f"{label:9}  records created {created} / expected {count}  "
                      f"({'exact' if created == count else 'WRONG'})  submits {len(posts)}  "
                      f"ambiguous outcomes: {slow} slow commits (answered after {args.slow_ms / 1000:g} s), "
                      f"{errors} error pages after a submit  |  {seconds / count:5.2f} s per create "
                      f"({seconds:.1f} s in all)", flush=True)  # fmt: skip
    finally:
        server.stop()
        store.close()
    print(f"\nwith the faults a create takes {results['faults on'] / results['no faults']:.2f}x the time it takes "
          f"without ({args.percent:g} % slow commits and {args.percent:g} % 500s on /customers/new)")


if __name__ == "__main__":
    main()
