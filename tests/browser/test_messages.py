"""The sign-in steps' answer after a submit (robots.browser.page.messages): a message on screen when the step marked
the page is passed over while it stays as it was, and counts once its words change, once it has gone and come back,
and when another element shows up. A real Chromium on a local page that plays each case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from robots.browser.launch import BrowserOptions
from robots.browser.page import Browser
from robots.browser.start import start_browser
from robots.errors import ElementNotFound
from robots.locators import Selector, parse_locator

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><body>
<div id="notice" role="status">Please sign in to continue.</div>
<form><input id="username"><button id="submit" type="button">Sign in</button></form>
<div id="app"></div>
</body></html>"""

NOTICE = Selector("page.notice", (parse_locator("css:#notice, #error"),))
DONE = Selector("page.done", (parse_locator("css:#app .signed-in"),))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    home = tmp_path_factory.mktemp("messages")
    (home / "page.html").write_text(PAGE)
    b = start_browser(BrowserOptions(), home)
    try:
        b.open((home / "page.html").as_uri())
        yield b
    finally:
        b.quit()


@pytest.fixture
def page(browser: Browser) -> Browser:
    browser.refresh()
    return browser


def test_a_message_that_stays_as_it_was_is_no_answer(page: Browser) -> None:
    mark = page.mark_shown([NOTICE, DONE])
    with pytest.raises(ElementNotFound) as caught:
        page.first_new_of([NOTICE, DONE], 0.5, mark)
    assert str(caught.value) == (
        f"none of 'page.notice', 'page.done' appeared within 0.5 s on {page.url} ('page.notice' still shows 'Please "
        "sign in to continue.', as it did before the step submitted)")


def test_new_words_in_the_same_element_are_the_answer(page: Browser) -> None:
    mark = page.mark_shown([NOTICE, DONE])
    page.script("setTimeout(() => { document.getElementById('notice').textContent = 'Invalid password.'; }, 200)")
    assert page.first_new_of([NOTICE, DONE], 10, mark) == (0, "Invalid password.")


def test_a_message_that_went_and_came_back_is_the_answer(page: Browser) -> None:
    mark = page.mark_shown([NOTICE, DONE])
    page.script("const n = document.getElementById('notice'); n.style.display = 'none';"
                "setTimeout(() => { n.style.display = ''; }, 400)")
    assert page.first_new_of([NOTICE, DONE], 10, mark) == (0, "Please sign in to continue.")


def test_another_element_is_the_answer_and_the_first_listed_wins(page: Browser) -> None:
    mark = page.mark_shown([NOTICE, DONE])
    page.script("setTimeout(() => { document.getElementById('app').innerHTML = '<p class=signed-in>Dana</p>'; }, 200)")
    assert page.first_new_of([NOTICE, DONE], 10, mark) == (1, "Dana")
    mark = page.mark_shown([NOTICE, DONE])
    page.script("document.body.insertAdjacentHTML('beforeend', '<div id=error>Locked.</div>');"
                "document.getElementById('app').innerHTML = '<p class=signed-in>Kim</p>'")
    assert page.first_new_of([NOTICE, DONE], 10, mark) == (0, "Locked.")
