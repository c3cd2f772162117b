"""Launching, shared by every browser kind (robots.browser.local, .undetected and .remote): the options, Chrome's
arguments, finding the binaries, a virtual display for --headed, chromedriver's port and log, process tracking
(each process spawned behind the gate of robots.browser.processes and recorded before it may run), the gated
chromedriver Service, and what every kind does once its driver answers (`prepare`)."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robots.browser import processes
from robots.browser.diagnosis import first_line, reraise_interrupt
from robots.browser.scripts import NET_HOOK
from robots.errors import BrowserError
from robots.settings import BROWSER_KINDS, PREFIX, settings

if TYPE_CHECKING:
    from robots.browser.page import Browser

CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-crash-reporter",  # else crashpad handlers start in sessions of their own, outside our group
    "--disable-breakpad",
)

#: browser kinds: `robots.browser.start.start_browser` dispatches on them
KINDS = BROWSER_KINDS

#: chromedriver logs warnings and errors only (never the commands, which carry typed secrets)
DRIVER_LOG_ARGS = ("--log-level=WARNING",)


@dataclass(frozen=True)
class BrowserOptions:
    """Everything needed to start one browser, resolved (see robots.browser.settings for the layers)."""

    kind: str = "chromium"  # one of KINDS
    headless: bool = True
    #: a Selenium Grid 4 (or any W3C remote end) for kind `remote`
    grid_url: str | None = None
    window_size: tuple[int, int] = (1366, 900)
    page_load_timeout: float = 60.0
    #: extra Chrome flags, after ours (a later flag wins in Chrome)
    arguments: tuple[str, ...] = ()
    #: Chrome's binary where Chrome runs (for `remote`, on the Grid's node); else found on PATH
    chrome_binary: str | None = None
    chromedriver: str | None = None


def chrome_arguments(options: BrowserOptions, *, headless_flag: bool = True) -> list[str]:
    """Our offline flags, the window size and the options' own flags (headless unless headed)."""
    flags = [f for f in CHROME_FLAGS if f != "--headless=new" or (options.headless and headless_flag)]
    return [*flags, f"--window-size={options.window_size[0]},{options.window_size[1]}", *options.arguments]


# ----------------------------------------------------------------------------------------------- binaries
def find_binary(explicit: str | None, env: str, names: tuple[str, ...], what: str, install: str) -> str:
    """`explicit`, else $env, else the first of `names` on PATH. A path that is given but not there is an
    error of its own (never silently replaced by another binary)."""
    configured = getattr(settings(), env.removeprefix(PREFIX).lower())  # the setting of that variable
    for given, where in ((explicit, "the browser options"), (configured, f"${env}")):
        if given:
            if Path(given).is_file() and os.access(given, os.X_OK):
                return given
            raise BrowserError(f"{what} not found: {given} (from {where}) is not an executable file; {install}")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError(f"{what} not found (looked at ${env} and {', '.join(names)} on PATH); {install}")


def find_chrome(options: BrowserOptions) -> str:
    """The local Chrome binary: the options', $ROBOTS_CHROME_BINARY's, or Debian's Chromium on PATH."""
    return find_binary(options.chrome_binary, "ROBOTS_CHROME_BINARY", ("chromium", "chromium-browser",
                       "google-chrome"), "Chrome", "install Debian's 'chromium' package or set ROBOTS_CHROME_BINARY")


def find_chromedriver(options: BrowserOptions) -> str:
    """The chromedriver binary: the options', $ROBOTS_CHROMEDRIVER's, or the one on PATH."""
    return find_binary(options.chromedriver, "ROBOTS_CHROMEDRIVER", ("chromedriver",), "chromedriver",
                       "install Debian's 'chromium-driver' package or set ROBOTS_CHROMEDRIVER")


def driver_port() -> int:
    """chromedriver's port: $ROBOTS_CHROMEDRIVER_PORT (where a firewall allows only one), else 0 (a free one)."""
    import socket

    given = settings().chromedriver_port  # a bad value is a ConfigError naming it
    if not given:
        return 0

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", given))
        except OSError:
            raise BrowserError(f"chromedriver's port {given} (ROBOTS_CHROMEDRIVER_PORT) is in use: stop what "
                               "listens there, or unset ROBOTS_CHROMEDRIVER_PORT to let chromedriver take a free "
                               "port") from None
    return given


# ----------------------------------------------------------------------------------------------- processes
class ProcessLog:
    """The processes one browser start spawned, tracked by pid; with a run folder, its processes.json (the orphan
    sweep's list, naming `folder` to remove) is written at once on every record."""

    def __init__(self, run_dir: Path | None, folder: str) -> None:
        self.run_dir, self.folder = run_dir, folder
        self.tracked: list[processes.Tracked] = []

    def record(self, pid: int, role: str) -> None:
        """Track `pid` and write the run's processes.json at once."""
        t = processes.track(pid, role)
        if t:
            self.tracked.append(t)
        self.write()

    def write(self) -> None:
        if self.run_dir is not None:
            processes.write(self.run_dir / "processes.json", self.tracked, os.getpid(), self.folder)

    def add_group(self, leader: int) -> None:
        """Track the members of `leader`'s process group (Chrome and its helpers), not written yet."""
        for pid in processes.group_members(leader):
            if pid != leader and (t := processes.track(pid, "chrome")):
                self.tracked.append(t)

    def end(self) -> None:
        processes.end(self.tracked)


def record_then_open(proc: Any, record: Callable[[], None], *, close: bool = False) -> None:
    """`record` a gated process (processes.GATE), then let it run; if recording fails, it never runs (the gate
    exits on end-of-file)."""
    try:
        record()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    processes.open_gate(proc.stdin, close=close)


@functools.cache
def gated_service(base: type) -> type:
    """`base` (a Selenium chromedriver Service class) spawning chromedriver behind the process gate
    (processes.GATE): `on_spawn` records its pid (durably) before it may run, not after it answers."""

    class GatedService(base):  # type: ignore[misc, valid-type]
        #: called with chromedriver's pid the moment it is spawned, before the gate opens
        on_spawn: Callable[[int], None] | None = None
        _gated: str | None = None  # while spawning: the chromedriver binary behind the gate

        def command_line_args(self) -> list[str]:
            args = super().command_line_args()
            return [*processes.GATE[1:], self._gated, *args] if self._gated else args

        def _start_process(self, path: str) -> None:
            self._gated = path
            try:
                super()._start_process(processes.GATE[0])
            finally:
                self._gated = None

            def record() -> None:
                if self.on_spawn is not None:
                    self.on_spawn(self.process.pid)

            record_then_open(self.process, record)

    return GatedService


def start_xvfb(record: Callable[[int, str], None]) -> str:
    """A virtual display for --headed when there is none: Xvfb picks a free display number and reports it.
    Xvfb is spawned behind the process gate and `record(pid, "xvfb")` is called before it may run."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise BrowserError("--headed needs a display: DISPLAY is not set and Xvfb is not installed "
                           "(install Debian's 'xvfb' package, or run where a display exists)")
    import subprocess

    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(processes.gated([binary, "-displayfd", str(write_end), "-screen", "0", "1366x900x24",
                                                 "-nolisten", "tcp"]),
                                pass_fds=(write_end,), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    finally:
        os.close(write_end)
    try:
        record(proc.pid, "xvfb")
    except BaseException:
        proc.kill()
        proc.wait()
        os.close(read_end)
        raise
    processes.open_gate(proc.stdin, close=True)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()  # Xvfb writes the display number once it accepts connections
    if not number.isdigit():
        proc.kill()
        proc.wait()
        raise BrowserError("Xvfb did not start (no display number reported)")
    return f":{number}"


#: seconds a fresh browser's first renderer may take to answer (chromedriver waits for a renderer as long as the
#: page-load timeout): a loaded machine can need more than a flow's page-load timeout, a hung one never answers
PREPARE_TIMEOUT = 30.0


def prepare(browser: Browser, options: BrowserOptions) -> None:
    """What every kind needs once its driver answers: the network hook, and then the page-load timeout."""
    from selenium.common.exceptions import WebDriverException

    driver = browser.driver
    try:
        driver.set_page_load_timeout(max(PREPARE_TIMEOUT, options.page_load_timeout))
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NET_HOOK})
        driver.set_page_load_timeout(options.page_load_timeout)
    except WebDriverException as e:  # (an Interrupted from a signal handler passes through)
        reraise_interrupt(e)
        raise BrowserError(f"the {options.kind} browser started but does not take commands: {first_line(e)}") \
            from None
