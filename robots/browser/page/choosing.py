"""Choosing an option, whatever draws the list: a native <select>, a radio group, an ARIA combobox or listbox (a
component library's select, whose options open in an overlay outside the field), an autocomplete whose options come
from the server as you type, a menu. The option is picked by its exact text or value, once its list has stopped
moving (an open animation), and the choice is checked afterwards."""

from __future__ import annotations

import time
from typing import Any

from robots.browser.page.base import poll
from robots.browser.page.inputs import Inputs
from robots.errors import BrowserError, ElementNotFound, TechnicalError
from robots.locators import Selector

# What the target is: a native select, a radio group, a list already open (listbox, menu), or the trigger of a
# popup list (a combobox, a menu button), and whether one types into it (an autocomplete).
KIND_JS = """
const el = arguments[0];
const popup = '[role=combobox], [aria-haspopup]:not([aria-haspopup=false])';
// A component's select may keep a hidden native <select> beside its combobox: the combobox is what a person uses.
const select = el.matches('select') ? el
  : (!el.matches(popup) && !el.querySelector(popup) && el.querySelector('select'));
if (select) return {kind: 'select', el: select};
if (el.matches('[role=radiogroup], fieldset') || (!el.querySelector(popup)
    && el.querySelector('input[type=radio], [role=radio]'))) return {kind: 'radio', el};
if (el.matches('[role=listbox], [role=menu]')) return {kind: 'list', el};
const trigger = el.matches(popup + ', button, input') ? el
  : el.querySelector(popup) || el.querySelector('input:not([type=hidden]), button');
if (!trigger) return {kind: 'none', el};
const inner = trigger.matches('input, textarea') ? trigger
  : trigger.querySelector('input:not([type=hidden]), textarea');
// An autocomplete takes typing; a select's own input (a component library's, for keyboard look-up) says inputmode=none.
const typing = !!inner && !inner.readOnly && !inner.disabled && inner.inputMode !== 'none'
  && !['checkbox', 'radio', 'button', 'submit'].includes(inner.type);
const menu = trigger.getAttribute('role') !== 'combobox' && (trigger.getAttribute('aria-haspopup') || '') === 'menu';
return {kind: menu ? 'menu' : 'combobox', el: trigger, typing,
        open: trigger.getAttribute('aria-expanded') === 'true'};
"""

# The options on show: [{text, value}] (visible ones), and the element of the one wanted with whether it can be
# clicked now: its box has not moved for two animation frames and nothing covers its middle. Asynchronous: the
# last argument is the callback.
OPTIONS_JS = """
const [el, kind, text, value, done] = arguments;
const norm = (s) => (s || '').replace(/\\s+/g, ' ').trim();
const shown = (e) => { if (!e.getClientRects().length) return false; const st = getComputedStyle(e);
  return st.visibility !== 'hidden' && st.display !== 'none'; };
let options = [];
if (kind === 'radio') {
  for (const r of el.querySelectorAll('input[type=radio], [role=radio]')) {
    const label = r.getAttribute('aria-label') || (r.labels && r.labels[0] ? r.labels[0].innerText
      : (r.closest('label') ? r.closest('label').innerText : r.innerText));
    const clickable = shown(r) ? r : (r.labels && r.labels[0]) || r.closest('label') || r;
    options.push({e: clickable, input: r, text: norm(label), value: r.getAttribute('value')});
  }
} else {
  const OPT = '[role=option], [role=menuitem], [role=menuitemradio], [role=menuitemcheckbox]';
  let lists = kind === 'list' ? [el] : [];
  for (const attr of ['aria-controls', 'aria-owns']) {
    for (const id of (el.getAttribute(attr) || '').split(/\\s+/).filter(Boolean)) {
      const found = document.getElementById(id); if (found) lists.push(found);
    }
  }
  let found = [...new Set(lists.flatMap((l) => [...(l.matches(OPT) ? [l] : []), ...l.querySelectorAll(OPT)]))]
    .filter(shown);
  if (!found.length) {  // a list drawn elsewhere (an overlay at the end of the document), not linked by id
    found = [...document.querySelectorAll('[role=listbox], [role=menu]')].filter(shown)
      .flatMap((l) => [...l.querySelectorAll(OPT)]).filter(shown);
  }
  options = found.map((e) => ({e, input: e, text: norm(e.innerText || e.textContent),
                               value: e.getAttribute('data-value') ?? e.getAttribute('value')}));
}
const seen = options.map((o) => ({text: o.text, value: o.value}));
const want = options.find((o) => (value !== null ? o.value === value : o.text === norm(text)));
if (!want) { done({seen}); return; }
const box = () => { const r = want.e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height].join(','); };
want.e.scrollIntoView({block: 'nearest'});
const before = box();
const settle = (f) => { let called = false; const once = () => { if (!called) { called = true; f(); } };
  requestAnimationFrame(() => requestAnimationFrame(once)); setTimeout(once, 100); };
settle(() => {
  const r = want.e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  const free = !!hit && (want.e.contains(hit) || hit.contains(want.e)
    || (want.input !== want.e && want.input.contains(hit)));
  done({seen, el: want.e, input: want.input, text: want.text, stable: box() === before, free,
        covered: hit && !free ? hit.outerHTML.slice(0, hit.outerHTML.indexOf('>') + 1) : null});
});
"""

# Whether the choice shows: a radio checked, a listbox's option selected, the target showing the option's text (a line
# of its text, or the value of its field).
CHOSEN_JS = """
const [target, kind, input, text] = arguments;
if (kind === 'radio') return input.checked === true || input.getAttribute('aria-checked') === 'true';
if (kind === 'list') return ['aria-selected', 'aria-checked'].some((a) => input.getAttribute(a) === 'true');
const norm = (s) => (s || '').replace(/\\s+/g, ' ').trim();
const lines = (target.innerText || '').split('\\n').map(norm);
const fields = [...target.querySelectorAll('input, textarea'), target];
return lines.includes(text) || fields.some((f) => typeof f.value === 'string' && norm(f.value) === text);
"""


class Choosing(Inputs):
    def choose(self, selector: Selector, timeout: float, *, option: str | None = None, value: str | None = None,
               search: str | None = None) -> str:
        """Choose the option whose visible text is `option` (or whose value is `value`); its text. An autocomplete
        is typed into first (`search`, else the option's text) and its options waited for. The next read waits until
        the page has settled (a choice often sets off a request: a filter, a dependent field)."""
        try:
            return self._choose(selector, timeout, option, value, search)
        finally:
            self.changed()

    def _choose(self, selector: Selector, timeout: float, option: str | None, value: str | None,
                search: str | None) -> str:
        deadline = time.monotonic() + timeout
        el = self.find(selector, timeout, "visible")
        info = self._guard(lambda: self.driver.execute_script(KIND_JS, el), f"choosing in '{selector.name}'")
        kind, field = info["kind"], info["el"]
        if kind == "select":
            return self._choose_native(selector, field, option, value)
        if kind == "none":
            raise ElementNotFound(f"'{selector.name}' has nothing to choose from (no select, radio group, combobox, "
                                  "listbox or menu in it)")
        if kind in ("combobox", "menu") and info.get("typing"):
            self.fill(selector, search if search is not None else (option or value or ""), timeout, verify=False)
        elif kind in ("combobox", "menu") and not info.get("open"):
            self._open(selector, field, deadline)
        wanted = option if value is None else None
        seen: list[dict[str, Any]] = []
        while True:
            got = self._guard(lambda: self.driver.execute_async_script(OPTIONS_JS, field, kind, wanted, value),
                              f"reading the options of '{selector.name}'")  # fmt: skip
            seen = got["seen"] or seen
            if got.get("el") is not None and got["stable"] and got["free"] and self._click(got["el"]):
                break
            if not poll(deadline, 0.1):
                raise self._no_option(selector, got, seen, option, value, timeout)
        chosen = str(got["text"])
        self._check_chosen(selector, kind, got["input"], chosen, deadline)
        return chosen

    def _choose_native(self, selector: Selector, field: Any, option: str | None, value: str | None) -> str:
        from selenium.common.exceptions import NoSuchElementException
        from selenium.webdriver.support.select import Select

        def do() -> str:
            menu = Select(field)
            try:
                if value is not None:
                    menu.select_by_value(value)
                else:
                    menu.select_by_visible_text(option or "")
            except NoSuchElementException:
                options = ", ".join(repr(o.text) for o in menu.options)
                wanted = f"with value {value!r}" if value is not None else repr(option)
                raise ElementNotFound(f"'{selector.name}' has no option {wanted} (options: {options})") from None
            return str(menu.first_selected_option.text)

        chosen = self._guard(do, f"choosing in '{selector.name}'")
        if value is None and chosen != option:
            raise TechnicalError(f"the field '{selector.name}' shows {chosen!r} after choose, not {option!r}")
        return chosen

    def _open(self, selector: Selector, trigger: Any, deadline: float) -> None:
        """Click the trigger of a popup list (again while something still covers it: an overlay closing)."""
        while not self._click(trigger):
            if not poll(deadline, 0.1):
                raise BrowserError(f"'{selector.name}' could not be clicked to open its list: another element "
                                   "covers it")

    def _click(self, el: Any) -> bool:
        """Click an element; False when another element took the click or the element was redrawn meanwhile."""
        from selenium.common.exceptions import (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            StaleElementReferenceException,
        )

        def attempt() -> bool:
            try:
                el.click()
            except (ElementClickInterceptedException, StaleElementReferenceException, ElementNotInteractableException):
                return False
            return True

        return bool(self._guard(attempt, "clicking"))

    def _no_option(self, selector: Selector, got: dict[str, Any], seen: list[dict[str, Any]], option: str | None,
                   value: str | None, timeout: float) -> Exception:
        if got.get("el") is not None:  # there, but never still or never free within the time
            why = f"covered by {got['covered']}" if got.get("covered") else "still animating"
            return BrowserError(f"the option {got['text']!r} of '{selector.name}' could not be clicked within "
                                f"{timeout:g} s: {why}")
        wanted = f"with value {value!r}" if value is not None else repr(option)
        if not seen:
            return ElementNotFound(f"'{selector.name}' showed no options within {timeout:g} s on {self.url}")
        listed = ", ".join(repr(o["text"]) if value is None else f"{o['text']!r} ({o['value']!r})" for o in seen)
        return ElementNotFound(f"'{selector.name}' has no option {wanted} (options seen: {listed})")

    def _check_chosen(self, selector: Selector, kind: str, input_el: Any, text: str, deadline: float) -> None:
        """Wait until the choice shows (a framework redraws the field after the click: it is looked for again)."""
        if kind == "menu":
            return  # a menu's item is an action: nothing keeps showing it
        mark = input_el if kind in ("radio", "list") else None

        def shows() -> bool:
            hit = self._match(selector, "visible")
            return hit is not None and bool(self.driver.execute_script(CHOSEN_JS, hit[0], kind, mark, text))

        while not self._guard(shows, f"reading '{selector.name}'"):
            if not poll(deadline, 0.05):
                raise TechnicalError(f"the field '{selector.name}' does not show {text!r} after choose")
