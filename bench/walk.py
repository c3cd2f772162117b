"""Walking the customer list: plain HTTP vs our browser walk vs the hybrid mode, side by side in one run
(docs/CONTRACTS.md C7), plus the normalization rate.

    .venv/bin/python bench/walk.py [--repeats 3] [--size default]

- http: one keep-alive httpx.Client signed in over HTTP, GET every page of /customers (50 rows a page) and read it
  with the same scraper the flow uses (flows/sera/list_customers.yaml's extract step through robots.scrape.page).
- browser: the flow's walk in Chromium (`paginate`, fetch: page): Chrome navigates to each page, and its page source
  is read in one round trip, never cell by cell - what an expert hand-written Selenium script does.
- script: the same walk with `fetch: script`: the signed-in page fetches each page's HTML itself (the browser's
  cookies, headers and network stack) in one round trip, without rendering it.
- hybrid: the same walk with `paginate: {fetch: http}`: the browser's session, pages over HTTP.
Login is excluded from every side (the browser signs in once, before the walks; the HTTP client before its own).
No faults. The sandbox runs in its own process; its own time per page (from /_sandbox/requests) is shown beside.
Medians of `--repeats` walks, interleaved (http, browser, hybrid, http, ...).

Targets (issue 11): browser <= 2.0x http, hybrid <= 1.15x http, normalization >= 50,000 rows/s.
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
from typing import Any

import httpx
import pyotp
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robots.engine import Listener, Runner  # noqa: E402
from robots.flow.loader import load_flow  # noqa: E402
from robots.packs.sera.library import TIME_ZONE, read_steps  # noqa: E402
from robots.packs.sera.sandbox import credentials  # noqa: E402
from robots.portals import open_portal  # noqa: E402
from robots.records.model import StepRecord  # noqa: E402
from robots.scrape.page import find, read_page  # noqa: E402
from robots.scrape.tables import parse_table  # noqa: E402

FLOW = ROOT / "flows" / "sera" / "list_customers.yaml"
PAGE_SIZE = 50
#: paginate's fetch modes, as walked here: page (our browser walk: one page source per page), http (hybrid),
#: browser (every inner step run and recorded on every page: several round trips per page)
MODES = ("page", "script", "http", "browser")


def start_sandbox(size: str) -> tuple[subprocess.Popen[str], str]:
    """The sandbox in a process of its own (so that it does not share our interpreter's lock)."""
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "sandbox", "serve", "--port", "0", "--size", size],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit(f"the sandbox did not start: {url!r}")
    return proc, url


def http_sign_in(client: httpx.Client) -> None:
    creds = credentials()
    page = client.get("/login")
    token = BeautifulSoup(page.text, "html.parser").find("input", attrs={"name": "csrf_token"})["value"]  # type: ignore[index]
    r = client.post("/login", data={"username": creds["username"], "password": creds["password"], "csrf_token": token})
    assert r.status_code == 303, r.text[:300]
    client.post("/_sandbox/clock", json={"advance": 31})  # a TOTP window of its own: each code signs in once
    now = client.get("/_sandbox/clock").json()["now"]
    code = pyotp.TOTP(creds["totp_secret"]).at(datetime.fromisoformat(now.replace("Z", "+00:00")))
    r = client.post("/mfa", data={"code": code})
    assert r.status_code == 303, r.text[:300]


def http_walk(client: httpx.Client, base: str) -> tuple[float, int, int]:
    """The floor: GET every page on one keep-alive connection, the flow's own scraper, the next link from the page."""
    flow = load_flow(FLOW)
    steps = read_steps(flow)
    next_sel = flow.catalog.resolve("customers.next_page")
    pages = rows = 0
    url: str | None = f"{base}/customers?page_size={PAGE_SIZE}"
    t0 = time.perf_counter()
    while url:
        response = client.get(url)
        read = read_page(response.text, steps, resolve=flow.catalog.resolve, url=str(response.url), tz=TIME_ZONE)
        pages, rows = pages + 1, rows + read.rows
        hit = find(read.doc, next_sel)
        url = str(response.url.join(hit[0][0].get("href"))) if hit else None
    return time.perf_counter() - t0, pages, rows


def server_ms(log_client: httpx.Client, pages: int) -> float:
    """The sandbox's own median time per customers page, over the last walk's pages."""
    entries = [e for e in log_client.get("/_sandbox/requests").json() if e["path"] == "/customers"][-pages:]
    return statistics.median(e["duration_ms"] for e in entries)


def bench_flow(folder: Path, repeats: int) -> Path:
    """Sign in once, then `repeats` rounds of (browser walk, hybrid walk) of the customer list."""
    walk = FLOW.read_text(encoding="utf-8")
    paginate = walk[walk.index("  - paginate:"):walk.index("  - set_output")]
    body = []
    for n in range(repeats):
        for mode in MODES:
            block = paginate.replace("id: pages", f"id: {mode}_{n}").replace(
                '      fetch: "{{ vars.fetch }}"', f"      fetch: {mode}").replace(
                "collect: rows", f"collect: rows_{mode}_{n}").replace("id: rows", f"id: rows_{mode}_{n}")
            page1 = "{{ portal.url }}/customers?page_size=" + str(PAGE_SIZE)
            if mode == "browser":  # the step-by-step walk starts from the page the browser opened
                body.append(f'  - open: {{id: open_{mode}_{n}, url: "{page1}"}}\n' + block)
            else:  # page, script and http read their first page themselves
                body.append(block.replace(f"      fetch: {mode}", f'      fetch: {mode}\n      url: "{page1}"'))
    path = folder / "walks.yaml"
    path.write_text(f"name: bench_walks\nportal: sera\nselectors: {ROOT / 'selectors' / 'sera'}\nsteps:\n"
                    f"  - call: {ROOT / 'flows' / 'sera' / 'sign_in.yaml'}\n" + "".join(body), encoding="utf-8")
    return path


#: WebDriver commands sent so far (every HTTP round trip to chromedriver), counted by `count_commands`
COMMANDS = [0]


def count_commands() -> None:
    """Count every command this process sends to chromedriver: round trips per page do not depend on the
    machine's load, so they compare two revisions where the times cannot."""
    from selenium.webdriver.remote.remote_connection import RemoteConnection

    execute = RemoteConnection.execute

    def counted(self: RemoteConnection, command: str, params: dict[str, Any]) -> Any:
        COMMANDS[0] += 1
        return execute(self, command, params)

    RemoteConnection.execute = counted  # type: ignore[method-assign]


def _timed(step_id: str | None) -> bool:
    return bool(step_id) and str(step_id).startswith(("open_", *(f"{m}_" for m in MODES)))


class Timings(Listener):
    """Durations of the top-level open and paginate steps, the sandbox's time per page after each walk, and per
    walk the WebDriver round trips and this process's CPU time (the runner's own cost, whatever the load)."""

    def __init__(self, log_client: httpx.Client):
        self.log_client = log_client
        self.ms: dict[str, float] = {}
        self.server: dict[str, float] = {}
        self.commands: dict[str, int] = {}
        self.cpu_ms: dict[str, float] = {}
        self._start = (0, 0.0)

    def step_started(self, call: Any, index: int) -> None:
        if _timed(getattr(call.args, "id", None)):
            self._start = (COMMANDS[0], time.process_time())

    def step_finished(self, record: StepRecord) -> None:
        if _timed(record.step_id):
            assert record.step_id is not None
            self.ms[record.step_id] = record.duration_ms
            self.commands[record.step_id] = COMMANDS[0] - self._start[0]
            self.cpu_ms[record.step_id] = (time.process_time() - self._start[1]) * 1000
            if not record.step_id.startswith("open_"):
                self.server[record.step_id] = server_ms(self.log_client, 50)


def normalization_rate(page: str) -> tuple[float, int]:
    """Rows per second through the table scraper (parse + normalize) on the table of a saved 50-row page: the
    outer HTML that the browser walk hands it."""
    import lxml.html

    html = lxml.html.tostring(lxml.html.fromstring(page).xpath("//table")[0], encoding="unicode")
    flow = load_flow(FLOW)
    fields = read_steps(flow)[0][2].fields
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 2.0:
        n += len(parse_table(html, fields, base_url="https://acme.sera.tech/customers", tz=TIME_ZONE))
    return n / (time.perf_counter() - t0), n


def normalize_only_rate(page: str) -> float:
    """Rows per second through the normalizers alone: the cells' texts read once, then converted per field."""
    import lxml.html

    from robots.scrape.tables import converter, field_writer

    flow = load_flow(FLOW)
    fields = read_steps(flow)[0][2].fields
    table = lxml.html.fromstring(page).xpath("//table")[0]
    headers = [" ".join(th.text_content().split()) for th in table.xpath("./thead/tr/th")]
    raw_rows = []
    for tr in table.xpath("./tbody/tr"):
        texts = [" ".join(td.text_content().split()) for td in tr.xpath("./td")]
        raw_rows.append({name: tr.get(spec.row_attr) if spec.row_attr else texts[headers.index(spec.column or "")]
                         for name, spec in fields.items()})  # fmt: skip
    plan = [(name, field_writer(name, spec, converter(spec, TIME_ZONE, ""))) for name, spec in fields.items()]
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 2.0:
        for raw in raw_rows:
            row: dict[str, Any] = {}
            for name, write in plan:  # as parse_table does
                write(row, raw[name] or None)
        n += len(raw_rows)
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", default="default", choices=["small", "default"])
    opts = parser.parse_args()
    count_commands()
    proc, url = start_sandbox(opts.size)
    try:
        with httpx.Client(base_url=url, timeout=30) as log_client, httpx.Client(base_url=url, timeout=30) as client:
            http_sign_in(client)
            http_s: list[float] = []
            http_server: list[float] = []
            pages = rows = 0

            def one_http() -> None:
                nonlocal pages, rows
                seconds, pages, rows = http_walk(client, url)
                http_s.append(seconds)
                http_server.append(server_ms(log_client, pages))

            one_http()  # warm-up of both sides, not counted
            http_s.clear()
            http_server.clear()
            for _ in range(opts.repeats):
                one_http()
            with tempfile.TemporaryDirectory() as tmp:
                flow = load_flow(bench_flow(Path(tmp), opts.repeats))
                timings = Timings(log_client)
                creds = credentials()
                secrets = {"sera_username": creds["username"], "sera_password": creds["password"],
                           "sera_totp": creds["totp_secret"]}  # fmt: skip
                secrets.update({name: "" for name in flow.all_secrets() if name not in secrets})
                with open_portal("sera", url=url) as portal:
                    record = Runner(home=Path(tmp) / "home", listener=timings).run(flow, secrets=secrets, portal=portal)
                if record.status != "passed":
                    raise SystemExit(f"the browser walks {record.status}: {record.error_message}")
            for _ in range(opts.repeats):  # the http side again, after the browser ran: interleaved medians
                one_http()
        page1 = (ROOT / "tests" / "packs" / "sera" / "pages" / "sera_customers_page1.html").read_text(encoding="utf-8")
        rate, normalized = normalization_rate(page1)
        only_rate = normalize_only_rate(page1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    def walk_s(mode: str) -> list[float]:
        return [(timings.ms.get(f"open_{mode}_{n}", 0.0) + timings.ms[f"{mode}_{n}"]) / 1000
                for n in range(opts.repeats)]

    def per_page(table: dict[str, Any], mode: str) -> float:
        """The median over the walks of `table`'s figure (open and walk together), per page."""
        return statistics.median(table.get(f"open_{mode}_{n}", 0) + table[f"{mode}_{n}"]
                                 for n in range(opts.repeats)) / pages

    http_med = statistics.median(http_s)
    browser_med, hybrid_med = statistics.median(walk_s("page")), statistics.median(walk_s("http"))
    script_med = statistics.median(walk_s("script"))
    steps_med = statistics.median(walk_s("browser"))
    srv = {"http": statistics.median(http_server)} | {
        name: statistics.median(timings.server[f"{mode}_{n}"] for n in range(opts.repeats))
        for name, mode in (("browser", "page"), ("script", "script"), ("hybrid", "http"), ("per-step", "browser"))}
    print(f"customer list walk: {pages} pages x {PAGE_SIZE} rows = {rows} rows, sandbox size {opts.size}, "
          f"medians of {opts.repeats} (http: {2 * opts.repeats} walks), login excluded, no faults")
    print(f"{'walk':<8} {'median s':>9} {'ms/page':>8} {'ratio':>7} {'server ms/page':>15} {'trips/page':>11} "
          f"{'cpu ms/page':>12}  all runs (s)")
    modes = {"browser": "page", "script": "script", "hybrid": "http", "per-step": "browser"}
    for name, med, runs in (("http", http_med, http_s), ("browser", browser_med, walk_s("page")),
                            ("script", script_med, walk_s("script")),
                            ("hybrid", hybrid_med, walk_s("http")), ("per-step", steps_med, walk_s("browser"))):
        mode = modes.get(name)
        trips = f"{per_page(timings.commands, mode):>11.2f}" if mode else f"{'-':>11}"
        cpu = f"{per_page(timings.cpu_ms, mode):>12.1f}" if mode else f"{'-':>12}"
        print(f"{name:<8} {med:>9.3f} {med / pages * 1000:>8.1f} {med / http_med:>6.2f}x {srv[name]:>15.1f} {trips} "
              f"{cpu}  " + ", ".join(f"{r:.3f}" for r in runs))
    print("browser = paginate fetch: page (Chrome navigates, one page source per page: the expert hand-written "
          "script); script = fetch: script (the browser's page fetches each page, nothing rendered); hybrid = fetch: "
          "http; per-step = fetch: browser (each inner step run in the browser and recorded, several round trips per "
          "page); trips = WebDriver commands (round trips to chromedriver), cpu = this process's CPU time: both per "
          "page and independent of the machine's load, unlike the times")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"targets: through the browser <= 2.00x (script: {script_med / http_med:.2f}x; navigating: "
          f"{browser_med / http_med:.2f}x), hybrid <= 1.15x (got {hybrid_med / http_med:.2f}x)")
    print(f"normalization: {only_rate:,.0f} rows/s through the normalizers alone (cell texts to a normalized record); "
          f"{rate:,.0f} rows/s including the HTML parse ({normalized:,} rows through parse_table); target >= 50,000")


if __name__ == "__main__":
    main()
