"""The `undetected` browser kind: undetected-chromedriver driving Debian's Chromium, offline.

undetected-chromedriver patches its chromedriver binary in place and starts Chrome itself (then attaches
chromedriver to it). So each start gets its own writable copy of chromedriver (never /usr/bin/chromedriver),
the Chromium binary and its major version are given (it would otherwise look them up online), and the two
processes it starts are put in sessions of their own and tracked by pid, like the chromium kind's: each is spawned
behind the process gate (robots.browser.processes.GATE) and recorded before it may run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from robots.browser import processes
from robots.browser.diagnosis import first_line, log_tail, start_error
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
    record_then_open,
    start_xvfb,
)
from robots.browser.page import Browser
from robots.errors import BrowserError

# undetected-chromedriver's start is patched (below) for the time of one start: one at a time per process.
_START_LOCK = threading.Lock()
_VERSIONS: dict[tuple[str, float], int] = {}


def chrome_major(chrome: str) -> int:
    """The major version of the Chrome binary (`chromium --version`), cached per binary and mtime."""
    key = (chrome, os.stat(chrome).st_mtime)
    if key not in _VERSIONS:
        try:
            out = subprocess.run([chrome, "--version"], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BrowserError(f"could not ask {chrome} for its version: {e}") from None
        words = [w for w in out.stdout.split() if w[:1].isdigit() and "." in w]
        if not words:
            raise BrowserError(f"{chrome} --version printed no version ({out.stdout.strip() or out.stderr.strip()!r})")
        _VERSIONS[key] = int(words[0].split(".")[0])
    return _VERSIONS[key]


@contextmanager
def _tracked_starts(on_start: Callable[[int, str], None], env: dict[str, str], driver_log: str) -> Iterator[None]:
    """While undetected-chromedriver starts: Chrome (its `subprocess.Popen`) and chromedriver (selenium's
    ChromiumService, which it builds) start in sessions of their own, so that a terminal's Ctrl-C does not
    reach them before we quit them and cleanup can end a whole process group; each pid is reported to
    `on_start` the moment it exists. chromedriver writes to `driver_log`; Chrome gets `env` and its output goes
    to /dev/null
    (undetected-chromedriver pipes it and never reads, which would stall a chatty Chrome)."""
    import selenium.webdriver.chromium.service as chromium_service
    import undetected_chromedriver as uc

    real_service = chromium_service.ChromiumService

    def popen(args: Any, *a: Any, **kw: Any) -> subprocess.Popen:
        kw.update(stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  start_new_session=True, env=env)
        proc = subprocess.Popen(processes.gated(list(args)), *a, **kw)  # recorded before it may run
        record_then_open(proc, lambda: on_start(proc.pid, "browser"), close=True)
        return proc

    class Service(gated_service(real_service)):  # type: ignore[misc]
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **{"port": driver_port(), "log_output": driver_log,
                                    "service_args": [*(kw.pop("service_args", None) or ()), *DRIVER_LOG_ARGS], **kw})
            self.popen_kw: dict[str, Any] = {**(self.popen_kw or {}), "start_new_session": True}
            self.on_spawn = lambda pid: on_start(pid, "chromedriver")

    shim = types.SimpleNamespace(**{n: getattr(subprocess, n) for n in dir(subprocess) if not n.startswith("__")})
    shim.Popen = popen
    with _START_LOCK:
        uc.subprocess = shim  # type: ignore[attr-defined]
        chromium_service.ChromiumService = Service  # type: ignore[misc]
        try:
            yield
        finally:
            uc.subprocess = subprocess  # type: ignore[attr-defined]
            chromium_service.ChromiumService = real_service  # type: ignore[misc]


def _disarm(driver: Any = None, pids: set[int] | None = None) -> None:
    """After our quit (or a failed start): undetected-chromedriver would SIGTERM its browser's pid again when
    the object is finalized (at exit, as its finalizer keeps it alive until then), by then maybe another
    process's pid. Forget that pid and drop the finalizer (which also lets the object be collected), for
    `driver`, or for the half-built drivers whose browser pid is in `pids`."""
    import weakref

    for ref, info in list(weakref.finalize._registry.items()):  # type: ignore[attr-defined]
        obj = info.args[0] if info.args else None
        if obj is not None and (obj is driver or (pids and getattr(obj, "browser_pid", None) in pids)):
            obj.browser_pid = None
            ref.detach()
    if driver is not None:
        driver.browser_pid = None


def _undetected_options(uc: Any, options: BrowserOptions, chrome: str) -> Any:
    opts = uc.ChromeOptions()
    opts.binary_location = chrome
    # Our flags without --headless (headless=True below makes it add its own: it removes any it finds,
    # skipping the flag after it) and without a profile (user_data_dir below: we remove it at quit).
    for flag in chrome_arguments(options, headless_flag=False):
        opts.add_argument(flag)
    opts.page_load_strategy = "eager"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return opts


def start_undetected(options: BrowserOptions, run_dir: Path | None) -> Browser:
    """Start Debian's Chromium through undetected-chromedriver, offline, tracked by pid and process group."""
    os.environ.setdefault("SE_OFFLINE", "true")
    chrome = find_chrome(options)
    source = find_chromedriver(options)
    try:
        import undetected_chromedriver as uc
    except ImportError as e:
        raise BrowserError(f"the undetected browser needs the undetected-chromedriver package ({e}); "
                           "pip install 'undetected-chromedriver>=3.5'") from None
    from selenium.common.exceptions import WebDriverException

    major = chrome_major(chrome)
    work = tempfile.mkdtemp(prefix="robots-uc-")  # the patched chromedriver copy and the profile
    spawned = ProcessLog(run_dir, work)
    profile = os.path.join(work, "profile")
    driver_copy = os.path.join(work, "chromedriver")
    driver_log = str((run_dir or Path(work)) / "chromedriver.log")
    shutil.copy2(source, driver_copy)
    os.chmod(driver_copy, 0o755)

    def clean_up() -> None:
        spawned.end()
        _disarm(pids={t.pid for t in spawned.tracked if t.role == "browser"})
        shutil.rmtree(work, ignore_errors=True)

    env = dict(os.environ)
    try:
        if not options.headless and not env.get("DISPLAY"):
            env["DISPLAY"] = start_xvfb(spawned.record)
        opts = _undetected_options(uc, options, chrome)
        with _tracked_starts(spawned.record, env, driver_log):
            driver = uc.Chrome(options=opts, driver_executable_path=driver_copy, browser_executable_path=chrome,
                               user_data_dir=profile, version_main=major, headless=options.headless,
                               use_subprocess=True)
    except WebDriverException as e:
        error = start_error(e, chrome, source, log_tail(driver_log))  # the binary the user knows, not our copy
        clean_up()
        raise error from None
    except (OSError, RuntimeError) as e:  # undetected-chromedriver's own (it raises plain exceptions)
        clean_up()
        raise BrowserError(f"undetected-chromedriver could not start Chrome ({chrome}): {first_line(e)}") from None
    except BaseException:
        clean_up()
        raise
    browser = Browser(driver, work, spawned.tracked, kind="undetected", after_quit=lambda: _disarm(driver))
    try:
        for leader in [t for t in spawned.tracked if t.role == "browser"]:
            spawned.add_group(leader.pid)
        spawned.write()
        # undetected-chromedriver sets its own window size after our flags; ours wins here.
        browser.set_window_size(*options.window_size)
        prepare(browser, options)
    except BaseException:
        browser.quit()
        raise
    return browser
