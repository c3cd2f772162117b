"""Cold start vs warm start, measured side by side in one run (issue 6).

    .venv/bin/python bench/sessions.py [--repeats 3]

Runs bench/flows/first_page.yaml (sign in, open the customer list, read its summary) through the in-process
Runner against a sandbox server on loopback, with a real SQLite record and session store:
- cold: Chrome start + the sign-in flow (login page, password, TOTP) + first page; the session store is
  emptied and the sandbox reset first (it forgets sessions and used TOTP codes);
- warm: Chrome start + the stored session restored (health probe, cookies put into Chrome) + first page.
Prints each repeat, the medians and the ratio; the sign-in step's own time is shown beside the run's.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from robots import load_flow
    from robots.engine import Runner
    from robots.packs.sera.sandbox import SandboxServer, credentials
    from robots.portals import open_portal
    from robots.records import SqlStore

    creds = credentials()
    secrets = {"sera_username": creds["username"], "sera_password": creds["password"],
               "sera_totp": creds["totp_secret"], "sera_mfa_to": ""}
    flow = load_flow(ROOT / "bench" / "flows" / "first_page.yaml")
    home = Path(tempfile.mkdtemp(prefix="robots-bench-"))
    store = SqlStore(f"sqlite:///{home}/robots.db")
    server = SandboxServer(size="default").start()
    times: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    try:
        with open_portal("sera", url=server.url) as portal:
            runner = Runner(store=store, home=home, trigger="test")
            for n in range(1, args.repeats + 1):
                for kind in ("cold", "warm"):
                    if kind == "cold":
                        server.reset()
                        runner.sessions.forget()
                    record = runner.run(flow, secrets=secrets, portal=portal)
                    if record.status != "passed":
                        raise SystemExit(f"{kind} run {n} {record.status}: {record.error_message}")
                    total = (record.ended_at - record.started_at).total_seconds()
                    sign_in = next(s.duration_ms for s in record.steps if s.name == "steps[0] call") / 1000
                    restore = [s.duration_ms / 1000 for s in record.steps if s.name == "session restored"]
                    restored = bool(restore)
                    if restored != (kind == "warm"):
                        raise SystemExit(f"{kind} run {n}: the session was {'' if restored else 'not '}restored")
                    times[kind].append((total, sign_in))
                    extra = f", of which the restore (probe + cookies) {restore[0]:4.2f} s" if restore else ""
                    print(f"repeat {n}  {kind}  run {total:5.2f} s  (sign-in step incl. Chrome start {sign_in:5.2f} s"
                          f"{extra})", flush=True)
    finally:
        server.stop()
        store.close()
    cold = statistics.median(t for t, _ in times["cold"])
    warm = statistics.median(t for t, _ in times["warm"])
    cold_in = statistics.median(s for _, s in times["cold"])
    warm_in = statistics.median(s for _, s in times["warm"])
    print(f"\nmedian of {args.repeats}: cold {cold:.2f} s (sign-in {cold_in:.2f} s), "
          f"warm {warm:.2f} s (sign-in {warm_in:.2f} s)")
    print(f"warm start takes {warm / cold:.2f}x the time of a cold start ({cold - warm:.2f} s saved per run)")


if __name__ == "__main__":
    main()
