"""A browser whose renderer answers late (a loaded machine: CI's failure "the chromium browser started but does
not take commands: timeout: Timed out receiving message from renderer: 8.000") still starts: preparing a fresh
browser waits for its first renderer longer than a flow's page-load timeout, and the flow's timeout holds after.
A renderer that never answers still fails, with that message, after the start's own bound."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from pathlib import Path

import pytest

from robots.browser import launch, local, processes
from robots.browser.launch import BrowserOptions
from robots.browser.start import start_browser
from robots.errors import BrowserError
from robots.testing import tracked_pids_alive

pytestmark = pytest.mark.browser


def renderers(browser) -> list[int]:  # type: ignore[no-untyped-def]
    """The pids of this browser's renderer processes (its process group, read from /proc)."""
    found = []
    for leader in (t.pid for t in browser.tracked if t.leads_group):
        for pid in processes.group_members(leader):
            try:
                if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():  # (Chrome rewrites it)
                    found.append(pid)
            except OSError:
                continue
    return found


def ended(browser) -> bool:  # type: ignore[no-untyped-def]
    return not any(t.alive() for t in browser.tracked) and not any(
        processes.group_members(t.pid) for t in browser.tracked if t.leads_group)


def resume(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:  # ended by the browser's quit already
            pass


def stop_for(pids: list[int], seconds: float) -> threading.Timer:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    timer = threading.Timer(seconds, resume, (pids,))
    timer.start()
    return timer


def test_a_renderer_that_answers_after_the_page_load_timeout_still_gets_its_browser_prepared():
    options = BrowserOptions(page_load_timeout=2)
    browser = start_browser(options, None)
    try:
        stopped = renderers(browser)
        assert stopped, "no renderer process found in the browser's process group"
        timer = stop_for(stopped, 5)  # 5 s: more than the 2 s page-load timeout, less than the start's bound
        launch.prepare(browser, options)
        timer.join()
        assert browser.driver.timeouts.page_load == 2  # the flow's own timeout, once the browser is prepared
    finally:
        browser.quit()
    assert ended(browser)


def test_a_renderer_that_never_answers_fails_the_start_with_its_cause(monkeypatch):
    monkeypatch.setattr(launch, "PREPARE_TIMEOUT", 3.0)
    options = BrowserOptions(page_load_timeout=1)
    browser = start_browser(options, None)
    try:
        stopped = renderers(browser)
        timer = stop_for(stopped, 8)
        with pytest.raises(BrowserError) as failed:
            launch.prepare(browser, options)
        assert str(failed.value) == ("the chromium browser started but does not take commands: timeout: Timed out "
                                     "receiving message from renderer: 3.000")
        timer.cancel()
        resume(stopped)
    finally:
        browser.quit()
    assert ended(browser)


def test_a_chrome_that_never_opens_a_session_is_ended_with_its_cause(tmp_path, monkeypatch):
    """Chrome's --renderer-startup-dialog stops every renderer until a debugger attaches: chromedriver never gets
    its first page, and selenium would wait 120 s and then raise urllib3's ReadTimeoutError."""
    monkeypatch.setattr(local, "START_TIMEOUT", 4.0)
    chrome = tmp_path / "chrome"
    chrome.write_text(f'#!/bin/sh\nexec {shutil.which("chromium")} --renderer-startup-dialog "$@"\n')
    chrome.chmod(0o755)
    with pytest.raises(BrowserError) as failed:
        start_browser(BrowserOptions(chrome_binary=str(chrome)), tmp_path)
    said = str(failed.value)  # chromedriver's log names the paused renderers by pid
    assert said.startswith(f"Chrome ({chrome}) started but did not open a session within 4 s; it was ended "
                           "(chromedriver said: ")
    assert "paused waiting for debugger to attach" in said
    assert (tmp_path / "processes.json").is_file()
    assert tracked_pids_alive(tmp_path) == []
