"""The `remote` browser kind: a session on a Selenium Grid 4 (`selenium.webdriver.Remote`). Chrome and its
driver run on the Grid's node; this side holds only the session, which `Browser.quit()` always ends."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from robots.browser.diagnosis import first_line
from robots.browser.grid_session import WHERE as _WHERE
from robots.browser.grid_session import grid_status
from robots.browser.launch import BrowserOptions, chrome_arguments, prepare
from robots.browser.page import Browser
from robots.errors import BrowserError
from robots.settings import settings

log = logging.getLogger("robots.browser")


@contextlib.contextmanager
def _signals_held() -> Iterator[list[int]]:
    """SIGINT/SIGTERM wait while the Grid creates the session: the session must reach our hands to be ended.
    A second signal stops waiting (a full Grid may queue the request for minutes; the Grid then ends the
    session after its own timeout). Yields the signals that arrived meanwhile."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def held(signum: int, frame: object) -> None:
        got.append(signum)
        if len(got) > 1:
            raise KeyboardInterrupt
        log.warning("stopping once the Selenium Grid has created the session (signal again to stop now)")

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, held)
    try:
        yield got
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _connection(grid_url: str) -> Any:
    """Selenium's Chrome connection to the Grid, which can also abort its requests in flight: a kill from
    another thread (a cancel) ends the session on the Grid, but a request the Grid had already taken may then
    never be answered, and the run's thread would sit in it for the client's 120-s read timeout."""
    import urllib3
    from selenium.webdriver.chrome.remote_connection import ChromeRemoteConnection
    from selenium.webdriver.remote.client_config import ClientConfig

    opened: weakref.WeakSet[Any] = weakref.WeakSet()

    class Pool(urllib3.HTTPConnectionPool):
        def _new_conn(self) -> Any:
            conn = super()._new_conn()
            opened.add(conn)
            return conn

    class SecurePool(urllib3.HTTPSConnectionPool):
        def _new_conn(self) -> Any:
            conn = super()._new_conn()
            opened.add(conn)
            return conn

    class Connection(ChromeRemoteConnection):  # type: ignore[misc]
        def _get_connection_manager(self) -> Any:
            manager = super()._get_connection_manager()
            manager.pool_classes_by_scheme = {"http": Pool, "https": SecurePool}
            return manager

        def abort(self) -> None:
            for conn in list(opened):
                sock = getattr(conn, "sock", None)
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

    return Connection(grid_url, client_config=ClientConfig(remote_server_addr=grid_url))


def start_remote(options: BrowserOptions, run_dir: Path | None = None) -> Browser:
    """A new Chrome session on the Grid at `options.grid_url`, with our flags. With a run folder, the session is
    named in its remote.json until quit, so that the orphan sweep can end it if this process dies."""
    if not options.grid_url:
        raise BrowserError(f"the remote browser needs a Selenium Grid URL: {_WHERE}")
    os.environ.setdefault("SE_OFFLINE", "true")
    grid_status(options.grid_url)
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException

    opts = webdriver.ChromeOptions()
    binary = options.chrome_binary or settings().chrome_binary
    if binary:  # Chrome's path on the node (goog:chromeOptions.binary); else the node's own choice
        opts.binary_location = binary
    for flag in chrome_arguments(options):
        opts.add_argument(flag)
    opts.page_load_strategy = "eager"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    opts.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
    with _signals_held() as got:
        try:
            driver = webdriver.Remote(command_executor=_connection(options.grid_url), options=opts)
        except WebDriverException as e:
            raise BrowserError(f"the Selenium Grid at {options.grid_url} could not start Chrome: {first_line(e)}"
                               + ("" if binary else " (set ROBOTS_CHROME_BINARY or browser.binary "
                                  "to Chrome's path on the Grid's node if it cannot find Chrome)")) from None
        except (OSError, ValueError) as e:
            raise BrowserError(f"could not talk to the Selenium Grid at {options.grid_url}: {e}") from None
    from selenium.webdriver.remote.file_detector import LocalFileDetector

    driver.file_detector = LocalFileDetector()  # `upload` sends the file's bytes to the node, wherever it is
    record = None
    if run_dir is not None:
        record = run_dir / "remote.json"
        record.write_text(json.dumps({"grid_url": options.grid_url, "session_id": driver.session_id}))
    browser = Browser(driver, None, [], kind="remote", remote_record=record)
    if got:  # a signal came while the session was being made: end the session, then deliver it
        browser.quit()
        signal.raise_signal(got[0])
        raise KeyboardInterrupt
    try:
        prepare(browser, options)
    except BaseException:
        browser.quit()
        raise
    return browser
