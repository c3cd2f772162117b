"""The `chromium` browser kind: Debian's Chromium through its chromedriver, offline (no Selenium Manager), every
process spawned behind the gate and tracked by pid (robots.browser.launch)."""

from __future__ import annotations

import functools
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from robots.browser.diagnosis import log_tail, start_error
from robots.browser.launch import (
    DRIVER_LOG_ARGS,
    BrowserOptions,
    ProcessLog,
    chrome_arguments,
    driver_port,
    find_chrome,
    find_chromedriver,
    gated_service,
    prepare,
    start_xvfb,
)
from robots.browser.page import Browser
from robots.errors import BrowserError


@functools.cache
def _once_service_class() -> type:
    from selenium.webdriver.chrome.service import Service

    class OnceService(gated_service(Service)):  # type: ignore[misc]
        """A Service that webdriver.Chrome does not start a second time: we start it ourselves, first, so
        that its pid is recorded before Chrome exists."""

        def start(self) -> None:
            proc = getattr(self, "process", None)
            if proc is not None and proc.poll() is None:
                return
            super().start()

    return OnceService


#: seconds chromedriver may take to open a session in a fresh Chrome (selenium's own wait is 120 s, and then
#: it raises urllib3's ReadTimeoutError, which names no browser): a Chrome that never answers is ended after this
START_TIMEOUT = 60.0


@functools.cache
def _bounded_chrome_class() -> type:
    from selenium import webdriver
    from selenium.webdriver.chromium.remote_connection import ChromiumRemoteConnection
    from selenium.webdriver.common.webdriver import LocalWebDriver
    from selenium.webdriver.remote.client_config import ClientConfig

    class BoundedChrome(webdriver.Chrome):  # type: ignore[misc]
        """webdriver.Chrome whose session request waits `start_timeout`, not selenium's 120 s. ChromiumDriver's
        __init__ takes no client config, so this is its body (selenium 4.51.0, pinned in pyproject.toml) with one:
        the service is already started and the binaries are found (no DriverFinder: Selenium Manager is offline)."""

        def __init__(self, service: Any, options: Any, start_timeout: float) -> None:
            self.service, self.options = service, options
            config = ClientConfig(remote_server_addr=service.service_url, keep_alive=True,
                                  timeout=math.ceil(start_timeout))  # (whole seconds)
            executor = ChromiumRemoteConnection(remote_server_addr=service.service_url, vendor_prefix="goog",
                                                browser_name="chrome", keep_alive=True,
                                                ignore_proxy=options._ignore_local_proxy, client_config=config)
            try:
                LocalWebDriver.__init__(self, command_executor=executor, options=options)
            except Exception:
                self.quit()
                raise
            config.timeout = 120  # selenium's own wait for every later command (chromedriver bounds page loads)

    return BoundedChrome


def _chrome_options(options: BrowserOptions, chrome: str, profile: str) -> Any:
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in chrome_arguments(options):
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.page_load_strategy = "eager"
    # Console messages and network events, kept for failure evidence.
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    opts.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
    return opts


def start_chromium(options: BrowserOptions, run_dir: Path | None) -> Browser:
    """Start Debian's Chromium through chromedriver, offline (no Selenium Manager), tracked by pid."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never try to download
    chrome = find_chrome(options)
    driver_bin = find_chromedriver(options)
    import urllib3.exceptions  # selenium's HTTP client
    from selenium.common.exceptions import WebDriverException

    port = driver_port()  # before anything starts: a taken port must leave nothing behind
    profile = tempfile.mkdtemp(prefix="robots-chrome-")
    spawned = ProcessLog(run_dir, profile)

    env = dict(os.environ)
    if not options.headless and not env.get("DISPLAY"):
        try:
            env["DISPLAY"] = start_xvfb(spawned.record)
        except BaseException:
            spawned.end()
            shutil.rmtree(profile, ignore_errors=True)
            raise
    opts = _chrome_options(options, chrome, profile)
    # chromedriver leads a process group of its own: Chrome and its helpers join it, a terminal's
    # Ctrl-C does not reach them before we quit them, and cleanup can end the whole group by its pid.
    # chromedriver's own output (why it exits) goes to a file that start errors quote. Warnings and worse
    # only: at INFO it logs every command with its arguments, the typed passwords among them (rule 6).
    driver_log = str((run_dir or Path(profile)) / "chromedriver.log")
    service = _once_service_class()(executable_path=driver_bin, port=port, log_output=driver_log,
                                    service_args=list(DRIVER_LOG_ARGS), popen_kw={"start_new_session": True},
                                    env=env)
    service.on_spawn = lambda pid: spawned.record(pid, "chromedriver")
    try:
        service.start()
        driver = _bounded_chrome_class()(service, opts, START_TIMEOUT)
    except urllib3.exceptions.TimeoutError:  # Chrome started, but it opened no session within START_TIMEOUT
        spawned.end()
        said = log_tail(driver_log)
        shutil.rmtree(profile, ignore_errors=True)
        raise BrowserError(f"Chrome ({chrome}) started but did not open a session within {START_TIMEOUT:g} s; it was "
                           f"ended{f' (chromedriver said: {said})' if said else ''}") from None
    except WebDriverException as e:
        spawned.end()
        error = start_error(e, chrome, driver_bin, log_tail(driver_log))
        shutil.rmtree(profile, ignore_errors=True)
        raise error from None
    except BaseException:
        spawned.end()
        shutil.rmtree(profile, ignore_errors=True)
        raise
    browser = Browser(driver, profile, spawned.tracked, kind=options.kind)
    try:
        # Record Chrome's own pids too (same group), so that a start-up sweep knows them.
        spawned.add_group(service.process.pid)
        spawned.write()
        prepare(browser, options)
    except BaseException:  # an interrupt before the caller holds the browser: end it here
        browser.quit()
        raise
    return browser
