"""Secrets are masked before any text is shortened: a secret cut in half by a length limit (a step's output
summary, `assert_text`'s "found ..." text, a table cell) is no longer a secret the masker can find, so every cut
must come after the mask. A real run in Chrome against a local page that shows the secrets, then every place a
run's text goes: stdout and stderr, the record (`runs show`, `--json`, the runs list), the export and the reports."""

from __future__ import annotations

import http.server
import json
import random
import re
import string
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from robots.masking import MASK, Masker, shorten
from robots.testing import run_flow_cli
from robots.testing.helpers import cli_env

TOTP = "KZXW6YTBOI4TQMZXGEZDGNBVGY3TQOJQ"  # 32 characters, like a TOTP secret
SHORT = "Pq7Zw3"  # shorter than every cut-off
LONG = "".join(random.Random(19).choices(string.ascii_letters + string.digits, k=300))  # longer than every one
SECRETS = {"totp": TOTP, "short": SHORT, "long": LONG}

# Each secret placed so that a cut at 77 (output summaries) or 117 (assert_text) characters falls inside it.
PAGE = f"""<!doctype html><html><body>
<p id="totp">{"a" * 100}{TOTP} tail</p>
<p id="short">{"b" * 113}{SHORT} tail</p>
<p id="long">{"c" * 10}{LONG} tail</p>
</body></html>"""

FLOW = """name: leak_by_truncation
secrets: [totp, short, long]
steps:
  - open: "{url}"
  - log: "{pad60}{{{{ secrets.totp }}}} tail"
  - log: "{pad72}{{{{ secrets.short }}}} tail"
  - log: "{pad10}{{{{ secrets.long }}}} tail"
  - assert_text: {{target: "css:#short", text: not there, optional: true}}
  - assert_text: {{target: "css:#long", text: not there, optional: true}}
  - assert_text: {{target: "css:#totp", text: not there}}
"""


@pytest.fixture
def page_url() -> Iterator[str]:
    body = PAGE.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/secrets.html"
    finally:
        server.shutdown()
        server.server_close()


def _pieces(secret: str) -> set[str]:
    """Every piece of the secret long enough to matter: 8 characters (4 of a secret shorter than 8)."""
    n = 8 if len(secret) >= 8 else 4
    return {secret[i:i + n] for i in range(len(secret) - n + 1)}


def _leaks(where: str, text: str) -> list[str]:
    text = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "data:", text)  # inlined screenshots
    found = []
    for name, secret in SECRETS.items():
        pieces = [piece for piece in sorted(_pieces(secret)) if piece in text]
        if pieces:
            found.append(f"{where}: {len(pieces)} pieces of {name}, e.g. {pieces[0]!r}")
    return found


def _robots(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "robots.cli", *args], capture_output=True, text=True,
                          env=cli_env(home), timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_no_piece_of_a_secret_survives_a_cut(tmp_path, page_url):
    flow = tmp_path / "leak.yaml"
    flow.write_text(FLOW.format(url=page_url, pad60="x" * 60, pad72="y" * 72, pad10="z" * 10))
    home = tmp_path / "home"
    env = {f"ROBOTS_SECRET_{k.upper()}": v for k, v in SECRETS.items()}
    reports = tmp_path / "reports"
    run = run_flow_cli([str(flow), "--report", f"html={reports}/r.html", "--report", f"json={reports}/r.json",
                        "--report", f"junit={reports}/r.xml"], home, env=env)
    assert run.returncode == 1, run.stderr
    record = json.loads(_robots(home, "runs", "show", run.run_id, "--json").stdout)
    steps = record["steps"]
    assert [s["status"] for s in steps] == ["passed", "passed", "passed", "passed", "skipped", "skipped", "failed"]

    leaks = _leaks("stdout", run.stdout) + _leaks("stderr", run.stderr)
    leaks += _leaks("runs show --json", json.dumps(record))
    leaks += _leaks("runs show", _robots(home, "runs", "show", run.run_id).stdout)
    leaks += _leaks("runs", _robots(home, "runs").stdout)
    bundle = tmp_path / "bundle.zip"
    _robots(home, "runs", "export", run.run_id, "--output", str(bundle))
    with zipfile.ZipFile(bundle) as z:
        for name in z.namelist():
            if not name.endswith(".png"):
                leaks += _leaks(f"export {name}", z.read(name).decode("utf-8", errors="replace"))
    for report in sorted(reports.iterdir()):
        leaks += _leaks(f"report {report.name}", report.read_text())
    assert "\n".join(leaks) == ""
    # Masked first, then cut where the masked text is still too long; a cut text ends with an ellipsis.
    assert [s["output_summary"] for s in steps[1:4]] == [
        f"{'x' * 60}{MASK} tail", f"{'y' * 72}{MASK} …", f"{'z' * 10}{MASK} tail"]
    assert [s["error_message"] for s in steps[4:]] == [
        f"expected 'css:#short' to contain 'not there', found '{'b' * 113}{MASK}…'",
        f"expected 'css:#long' to contain 'not there', found '{'c' * 10}{MASK} tail'",
        f"expected 'css:#totp' to contain 'not there', found '{'a' * 100}{MASK} tail'"]
    assert record["error_message"] == steps[-1]["error_message"]


@pytest.mark.parametrize("limit", [60, 80, 120, 2001])  # the runs list, summaries, assert_text, report cells
@pytest.mark.parametrize("secret", [SHORT, TOTP, LONG])
def test_shorten_never_keeps_a_piece_of_a_secret_at_any_cut(limit, secret):
    masker = Masker([secret])
    for start in range(max(0, limit - len(secret) - 2), limit + 2):  # the secret across the cut, at every offset
        text = "p" * start + secret + " and the rest" * 200
        shown = shorten(text, limit, masker)
        assert len(shown) == limit and shown.endswith("…")
        assert not [piece for piece in _pieces(secret) if piece in shown], (start, shown)
        assert shown.startswith("p" * min(start, limit - 1))


def test_shorten_leaves_short_text_alone_and_masks_it():
    assert shorten(f"code {TOTP}", 80, Masker([TOTP])) == f"code {MASK}"
    assert shorten("x" * 80, 80) == "x" * 80
    assert shorten("x" * 81, 80) == "x" * 79 + "…"
