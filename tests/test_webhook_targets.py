"""Outbound webhooks go to public addresses only, unless an operator allows a network (ROBOTS_WEBHOOK_ALLOW_NETWORKS):
checked when a URL is subscribed (the API answers 422, `robots watch --webhook` exits 2) and again at delivery on
the address actually connected, so a name that turns private after it was subscribed (DNS rebinding) is refused.
A refused delivery never connects, and its stored error reads the same for an open, a closed or a silent port.

Every connection here is a real one to a listener on 127.0.0.1; a test name's public address is only ever resolved
(by an injected resolver), never connected to."""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api.conftest import TEST_FLOWS, ApiClient, bearer, serve, token
from scheduler.receiver import Receiver

from robots.api import ApiSettings, create_app
from robots.errors import ConfigError
from robots.netguard import ALLOW_ENV, NetGuard, address_class, allowed_networks
from robots.outbox import Outbox
from robots.records import SqlStore
from robots.testing.helpers import cli_env

SECRET = "whsec-targets"
HINT = "; an operator can allow it with ROBOTS_WEBHOOK_ALLOW_NETWORKS"
LOOPBACK_REFUSED = "delivery refused: the target resolves to 127.0.0.1, a loopback address" + HINT
REBIND = "hooks.rebind.test"  # a name only the injected resolver knows


@pytest.fixture(autouse=True)
def _no_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_ENV, raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{tmp_path}/robots.db")
    yield s
    s.close()


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[[], ApiClient]]:
    """An API on a real uvicorn and SQLite; made when called, so that it reads the test's environment."""
    with contextlib.ExitStack() as stack:
        def make() -> ApiClient:
            settings = ApiSettings(database_url=f"sqlite:///{tmp_path}/robots.db", home=tmp_path / "home",
                                   flows_dir=TEST_FLOWS, portal_url=None, webhook_secret=SECRET)
            return stack.enter_context(serve(create_app(settings)))

        yield make


def _resolver(names: dict[str, str]) -> Callable[[str, int], list[str]]:
    """A name in `names` resolves to its (changeable) address; an IP literal to itself."""
    return lambda host, port: [names.get(host, host)]


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:9/x", "webhook URL http://127.0.0.1:9/x resolves to 127.0.0.1, a loopback address" + HINT),
    ("http://localhost:8000/x",
     "webhook URL http://localhost:8000/x resolves to 127.0.0.1, a loopback address" + HINT),
    ("http://0.0.0.0:8000/x", "webhook URL http://0.0.0.0:8000/x resolves to 0.0.0.0, an unspecified address" + HINT),
    ("http://169.254.169.254/latest/meta-data/", "webhook URL http://169.254.169.254/latest/meta-data/ resolves to "
                                                 "169.254.169.254, a link-local address" + HINT),
    ("http://10.1.2.3/x", "webhook URL http://10.1.2.3/x resolves to 10.1.2.3, a private address" + HINT),
    ("http://100.64.0.1/x",
     "webhook URL http://100.64.0.1/x resolves to 100.64.0.1, a shared (carrier-grade NAT) address" + HINT),
    ("http://[::1]:9/x", "webhook URL http://[::1]:9/x resolves to ::1, a loopback address" + HINT),
    ("http://ops:hunter2@hooks.example.com/x", "webhook URL contains a user name or password (they would be sent "
                                               "to the target; a receiver authenticates deliveries by their "
                                               "signature)"),
])
def test_the_api_refuses_a_webhook_url_on_an_internal_address(make_api: Callable[[], ApiClient], url: str,
                                                             message: str) -> None:
    api = make_api()
    headers = bearer(token(api, "webhooks:manage"))
    answer = api.post("/webhooks", headers=headers, json={"url": url})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["type"], error["message"]) == ("webhook_url_refused", message)
    assert "hunter2" not in answer.text
    assert api.get("/webhooks", headers=headers).json() == {"items": []}


def test_an_operator_allows_a_network_explicitly(make_api: Callable[[], ApiClient],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    api = make_api()
    headers = bearer(token(api, "webhooks:manage"))
    assert api.post("/webhooks", headers=headers, json={"url": "http://127.0.0.1:9/x"}).status_code == 201
    refused = api.post("/webhooks", headers=headers, json={"url": "http://10.1.2.3/x"})
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        422, "webhook URL http://10.1.2.3/x resolves to 10.1.2.3, a private address" + HINT)


def test_a_refused_delivery_never_connects_and_reads_the_same_for_any_port(store: SqlStore) -> None:
    """What the scheduler and `watch` enqueue is not subscribed through the API: the delivery checks it."""
    outbox = Outbox(store.engine, SECRET, backoff_s=0.05)
    with Receiver() as receiver:
        outbox.enqueue(receiver.url, "robot.failure", {"robot": "nightly", "outputs": {"customers": ["Ana"]}})
        outbox.enqueue(f"http://127.0.0.1:{_closed_port()}/hooks", "robot.failure", {"robot": "nightly"})
        assert outbox.deliver_due() == 0
    assert receiver.received == []
    assert [(d.status, d.attempts, d.last_error) for d in outbox.list()] == [("failed", 1, LOOPBACK_REFUSED)] * 2
    assert outbox.deliver_due() == 0  # refused for good: not retried


def test_dns_rebinding_is_refused_on_the_address_connected(store: SqlStore) -> None:
    names = {REBIND: "93.184.216.34"}
    guard = NetGuard(resolve=_resolver(names))
    with Receiver() as receiver:
        url = f"http://{REBIND}:{receiver.port}/hooks"
        assert guard.check_url(url) == ["93.184.216.34"]  # public when subscribed
        names[REBIND] = "127.0.0.1"  # ... and loopback when delivered
        outbox = Outbox(store.engine, SECRET, guard=guard)
        outbox.enqueue(url, "run.finished", {"run": {"outputs": {"said": "hi"}}})
        assert outbox.deliver_due() == 0
    assert receiver.received == []
    [delivery] = outbox.list()
    assert (delivery.status, delivery.last_error) == ("failed", LOOPBACK_REFUSED)


def test_an_allowed_network_is_reached_at_the_checked_address_under_the_host_name(store: SqlStore) -> None:
    """The guarded transport connects to the address it checked (the injected resolver's: the name is in no
    DNS), while the request keeps the name in its Host header."""
    guard = NetGuard(allow=allowed_networks("127.0.0.0/8"), resolve=_resolver({REBIND: "127.0.0.1"}))
    with Receiver() as receiver:
        outbox = Outbox(store.engine, SECRET, guard=guard)
        outbox.enqueue(f"http://{REBIND}:{receiver.port}/hooks", "run.finished", {})
        assert outbox.deliver_due() == 1
    [got] = receiver.received
    assert got["headers"]["Host"] == f"{REBIND}:{receiver.port}"
    assert [(d.status, d.last_error) for d in outbox.list()] == [("delivered", None)]


def test_a_url_with_credentials_is_refused_at_delivery_without_sending_them(store: SqlStore) -> None:
    outbox = Outbox(store.engine, SECRET, guard=NetGuard(allow=allowed_networks("127.0.0.0/8")))
    with Receiver() as receiver:
        outbox.enqueue(f"http://ops:hunter2@127.0.0.1:{receiver.port}/hooks", "run.finished", {})
        assert outbox.deliver_due() == 0
    assert receiver.received == []
    [delivery] = outbox.list()
    assert (delivery.status, delivery.last_error) == (
        "failed", "delivery refused: the target contains a user name or password (they would be sent to the "
                  "target; a receiver authenticates deliveries by their signature)")


@pytest.mark.parametrize(("address", "kind"), [
    ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("::ffff:8.8.8.8", None),
    ("127.0.0.1", "a loopback address"), ("127.1.2.3", "a loopback address"), ("::1", "a loopback address"),
    ("::ffff:127.0.0.1", "a loopback address"), ("2002:7f00:1::", "a loopback address"),
    ("0.0.0.0", "an unspecified address"), ("::", "an unspecified address"),
    ("169.254.169.254", "a link-local address"), ("fe80::1", "a link-local address"),
    ("::ffff:169.254.169.254", "a link-local address"),
    ("10.0.0.1", "a private address"), ("172.16.5.4", "a private address"), ("192.168.1.1", "a private address"),
    ("fd00::1", "a private address"), ("::ffff:10.0.0.1", "a private address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"), ("224.0.0.1", "a multicast address"),
    ("ff02::1", "a multicast address"), ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"), ("192.0.2.1", "a reserved address"),
])
def test_address_classes(address: str, kind: str | None) -> None:
    assert address_class(ipaddress.ip_address(address)) == kind


def test_an_allowance_covers_the_ipv4_mapped_form_and_nothing_else() -> None:
    guard = NetGuard(allow=allowed_networks("127.0.0.0/8, 10.1.0.0/16"))
    assert [guard.refusal(a) for a in ("127.0.0.1", "::ffff:127.0.0.1", "10.1.9.9", "10.2.0.1", "::1")] == [
        None, None, None, "resolves to 10.2.0.1, a private address", "resolves to ::1, a loopback address"]


def test_a_bad_allow_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        allowed_networks("127.0.0.0/8, intranet")
    assert str(caught.value) == ("ROBOTS_WEBHOOK_ALLOW_NETWORKS: 'intranet' is not a network (a CIDR such as "
                                 "10.1.0.0/16, comma-separated)")


def test_robots_watch_refuses_a_private_webhook_before_it_starts(tmp_path: Path) -> None:
    flow = Path(__file__).resolve().parents[1] / "flows" / "sera" / "list_customers.yaml"
    done = subprocess.run([sys.executable, "-m", "robots.cli", "watch", str(flow), "--polls", "1",
                           "--webhook", "http://169.254.169.254/latest/meta-data/"],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=cli_env(tmp_path / "home", ROBOTS_SECRET_WEBHOOK_SECRET=SECRET))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[-1] == ("error: webhook URL http://169.254.169.254/latest/meta-data/ resolves to "
                                            "169.254.169.254, a link-local address" + HINT)
    assert not (tmp_path / "home" / "runs").exists()  # no run, no browser
