"""A tiny portal for the pack tests, on a loopback port: a sign-in form and an orders table behind it. Standard
library only, so that a pack the tests build can copy this file and serve it as its own sandbox.

`shape = "b"` is the same portal after a redesign: the customer's name moved out of its table cell (into the
row's title), so a flow written for the old page reads an empty Customer column."""

from __future__ import annotations

import contextlib
import html
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

USERNAME = "clerk"
PASSWORD = "s3cret & <pass>"
ORDERS = [("1001", "Ada Lovelace", "Open", "$1,234.50", "03/14/2025"),
          ("1002", "Grace Hopper", "Shipped", "$80.00", "03/15/2025")]  # fmt: skip

LOGIN = """<!doctype html><html><head><title>Sign in</title></head><body>
<form method="post" action="/login">
  <label>User <input id="username" name="username" autocomplete="username"></label>
  <label>Password <input id="password" name="password" type="password"></label>
  <button id="sign-in" type="submit">Sign in</button>
</form>{error}</body></html>"""


class StaticPortal:
    def __init__(self) -> None:
        self.shape = "a"
        self.sessions: set[str] = set()
        self.url = ""

    def orders_page(self) -> str:
        rows = []
        for number, customer, status, total, placed in ORDERS:
            shown = customer if self.shape == "a" else ""
            rows.append(f'<tr data-id="{number}" title="{html.escape(customer)}"><td>{number}</td>'
                        f"<td>{html.escape(shown)}</td><td>{status}</td><td>{total}</td><td>{placed}</td></tr>")
        return ("<!doctype html><html><head><title>Orders</title></head><body><h1>Orders</h1>"
                '<table id="orders"><thead><tr><th>Number</th><th>Customer</th><th>Status</th><th>Total</th>'
                f"<th>Placed</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>")


def _handler(portal: StaticPortal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet: the tests read stderr of runs only
            pass

        def _send(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _signed_in(self) -> bool:
            cookies = dict(c.strip().split("=", 1) for c in self.headers.get("Cookie", "").split(";") if "=" in c)
            return cookies.get("session") in portal.sessions

        def do_GET(self) -> None:
            if self.path.startswith("/login"):
                self._send(200, LOGIN.format(error=""))
            elif self.path.startswith("/orders"):
                if self._signed_in():
                    self._send(200, portal.orders_page())
                else:
                    self._send(303, headers={"Location": "/login"})
            else:
                self._send(404, "<p>not found</p>")

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
            if form.get("username") == [USERNAME] and form.get("password") == [PASSWORD]:
                token = secrets.token_hex(8)
                portal.sessions.add(token)
                self._send(303, headers={"Location": "/orders", "Set-Cookie": f"session={token}; Path=/"})
            else:
                self._send(200, LOGIN.format(error='<p id="error">Wrong user name or password.</p>'))

    return Handler


@contextlib.contextmanager
def serving() -> Iterator[StaticPortal]:
    """The portal on a free loopback port (its `url`), for the duration of the block."""
    portal = StaticPortal()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(portal))
    portal.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield portal
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
