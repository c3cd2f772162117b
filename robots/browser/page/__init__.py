"""The page facade: one `Browser` (what steps call), composed of its action families - navigation, frames and
windows (navigation.py), the session's cookies and local storage (session.py), element actions (elements.py),
reading (reading.py), fetching inside the page and its network (network.py), failure evidence (evidence.py) and
the portal's answer told from what was on screen before (messages.py), all built on finding elements by catalog
selectors (base.py). Its lifecycle (quit, kill) is here. Starting one is
robots.browser.start; what its errors say, robots.browser.diagnosis."""

from __future__ import annotations

import logging
import shutil
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robots.browser import processes
from robots.browser.diagnosis import first_line
from robots.browser.grid_session import end_session
from robots.browser.page.elements import Elements
from robots.browser.page.evidence import Evidence
from robots.browser.page.messages import Messages
from robots.browser.page.network import Network
from robots.browser.page.reading import Reading
from robots.browser.page.session import SessionState
from robots.locators import Selector

log = logging.getLogger("robots.browser")


@dataclass
class Browser(SessionState, Elements, Reading, Network, Evidence, Messages):
    """One Chrome, driven through chromedriver; always end it with `quit()`."""

    driver: Any
    profile_dir: str | None  # a local profile to remove at quit (None: the remote end owns it)
    tracked: list[processes.Tracked] = field(default_factory=list)
    kind: str = "chromium"
    #: remote: the file (in the run's folder) naming the Grid session, for the orphan sweep; gone once quit
    remote_record: Path | None = None
    #: called at the end of quit() (undetected: disarm the library's own late clean-up)
    after_quit: Callable[[], None] | None = None
    #: (selector, index of the candidate that matched), in the order found; the engine reads and clears it
    matches: list[tuple[Selector, int]] = field(default_factory=list)
    #: called while `find` waits for an element that is not there yet; it raises to end the wait (the engine's:
    #: the portal sent the browser to its sign-in page, so the element will never come)
    page_check: Callable[[], None] | None = None
    _network: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))
    _closed: bool = False
    _in_frame: bool = False  # inside a catalog selector's frame (not one the flow entered with switch_frame)
    _script_timeout: float | None = None  # the session's script timeout as last set by fetch_text
    # settled pages (base.py):
    #: (monotonic time, was a navigation) of the last step that may have changed the page; None once it settled
    _unsettled: tuple[float, bool] | None = None
    #: epoch ms (Chrome's network log) of the last start or end of a request a settled page waits for
    _net_last: float = 0.0
    #: monotonic time of the last step that may have changed the page
    _last_action: float = 0.0
    #: the requests (of SETTLE_TYPES) in flight, by Chrome's request id: (method, url, type)
    _inflight: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: what each region showed when last read: its name -> (fingerprint, monotonic time, read whole)
    _seen: dict[str, tuple[str, float, bool]] = field(default_factory=dict)

    def quit(self) -> None:
        """End chromedriver and Chrome: politely first, then by the tracked pids (a remote session: on the Grid)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.driver.quit()
        except Exception as e:  # noqa: BLE001 - the processes are ended below whatever happened here
            if self.remote_record is not None:
                end_session(self.remote_record)  # once more, by plain HTTP; it warns if the Grid keeps it
            else:
                log.debug("driver.quit failed: %s", first_line(e))
        else:
            if self.remote_record is not None:
                self.remote_record.unlink(missing_ok=True)
        processes.end(self.tracked)
        if self.profile_dir:
            shutil.rmtree(self.profile_dir, ignore_errors=True)
        if self.after_quit is not None:
            self.after_quit()

    def kill(self) -> None:
        """End the browser now, from any thread (a cancel, a max_runtime): its processes by pid and process
        group, or its remote session on the Grid. `quit()` afterwards still tidies up."""
        if self.remote_record is not None:
            end_session(self.remote_record)
        abort = getattr(self.driver.command_executor, "abort", None)
        if abort is not None:  # a remote session's request in flight, which the Grid may never answer now
            abort()
        processes.end(self.tracked)


__all__ = ["Browser"]
