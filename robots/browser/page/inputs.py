"""Input that sticks: typing into a field the way a person does (select all, delete, type), so that a framework's
controlled input (React, Vue, Angular) sees every change; the value read back afterwards; keys and chords; JavaScript
run for a flow; the page's localStorage and sessionStorage."""

from __future__ import annotations

import json
import time
from typing import Any

from robots.browser import keys
from robots.browser.page.base import PageBase, poll
from robots.errors import BrowserError, ElementNotFound, TechnicalError
from robots.locators import Selector

# The control a flow's target names: the element, else the first field inside it (a component's wrapper, e.g. a
# Vuetify v-text-field's <div>). Shared by the scripts below.
CONTROL_JS = """
function control(el) {
  if (el.matches('input, textarea, select, [contenteditable=""], [contenteditable=true]')) return el;
  return el.querySelector('input:not([type=hidden]), textarea, select, [contenteditable=""], [contenteditable=true]')
    || el;
}
function current(el) {
  return el.isContentEditable && !('value' in el) ? el.innerText.replace(/\\n$/, '') : (el.value ?? '');
}
"""

# What a field is and holds; an input a person fills through its picker (date, time, ...) is set here as a browser's
# picker sets it: the value, then `input` and `change` events (through the prototype's setter, which frameworks'
# value trackers see).
PREPARE_JS = CONTROL_JS + """
const [target, value, set] = arguments;
const el = control(target);
const tag = el.tagName.toLowerCase(), type = (el.getAttribute('type') || '').toLowerCase();
const picked = tag === 'input' && ['date', 'time', 'datetime-local', 'month', 'week', 'color', 'range'].includes(type);
if (picked && set) {
  el.focus();
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(el, value);
  el.dispatchEvent(new Event('input', {bubbles: true}));
  el.dispatchEvent(new Event('change', {bubbles: true}));
}
const kind = tag === 'select' ? 'select' : ['checkbox', 'radio', 'file'].includes(type) ? type
  : picked ? 'picked' : (tag === 'input' || tag === 'textarea' || el.isContentEditable) ? 'text' : 'other';
return {el, kind, tag, type, value: current(el), secret: type === 'password', readonly: !!(el.readOnly || el.disabled),
        mac: /Mac|iPhone|iPad/.test(navigator.platform)};
"""

READ_JS = CONTROL_JS + "return current(control(arguments[0]));"

# A flow's own JavaScript: `code` is the body of a function called with the flow's arguments; what it returns (or
# what its promise resolves to) comes back, or what it threw, as the page names it.
_SCRIPT_HEAD = "try {\nconst __robots_result = (function () {\n"
_SCRIPT_TAIL = """
}).apply(null, arguments);
const __robots_out = (v) => (v instanceof Node ? {node: v.nodeName.toLowerCase()} : {ok: v === undefined ? null : v});
if (__robots_result && typeof __robots_result.then === 'function')
  return __robots_result.then(__robots_out, (e) => ({threw: String(e)}));
return __robots_out(__robots_result);
} catch (e) { return {threw: String(e)}; }
"""

STORAGE_JS = """
const [area, key, op, value] = arguments;
let store;
try { store = area === 'session' ? window.sessionStorage : window.localStorage; }
catch (e) { return {threw: String(e)}; }
if (key === null) return {ok: Object.fromEntries(Object.keys(store).sort().map((k) => [k, store.getItem(k)]))};
const before = store.getItem(key);
try {
  if (op === 'set') store.setItem(key, value);
  else if (op === 'remove') store.removeItem(key);
} catch (e) { return {threw: String(e)}; }
return {ok: op === 'set' ? store.getItem(key) : before};
"""


# What a browser's picker inputs take (their value whatever the page's language shows).
_FORMATS = {"date": "YYYY-MM-DD", "time": "HH:MM", "datetime-local": "YYYY-MM-DDTHH:MM", "month": "YYYY-MM",
            "week": "YYYY-Www", "color": "#rrggbb"}


def _quote(value: str, secret: bool) -> str:
    return "'••••••'" if secret else repr(value)


class Inputs(PageBase):
    # ----- typing
    def fill(self, selector: Selector, value: str, timeout: float, clear: bool = True, verify: bool = True,
             what: str = "fill") -> None:
        """Type `value` into a field: select what it holds and delete it (unless `clear` is False), type, then read
        the value back (unless `verify` is False) and fail when the field holds something else. Date, time,
        datetime-local, month, week, color and range inputs are set as their picker sets them. A field redrawn
        meanwhile (a page that re-renders it, a navigation that ends late) is looked for again and filled anew."""
        from selenium.common.exceptions import StaleElementReferenceException

        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._fill_once(selector, value, max(deadline - time.monotonic(), 0.1), clear, verify, what)
            except BrowserError as e:
                if not (clear and isinstance(e.__context__, StaleElementReferenceException)) or not poll(deadline):
                    raise

    def _fill_once(self, selector: Selector, value: str, timeout: float, clear: bool, verify: bool,
                   what: str) -> None:
        from selenium.webdriver.common.keys import Keys

        el = self.find(selector, timeout, "visible")
        info = self._guard(lambda: self.driver.execute_script(PREPARE_JS, el, value, clear),
                           f"typing into '{selector.name}'")  # fmt: skip
        kind, field = info["kind"], info["el"]
        if kind in ("select", "checkbox", "radio", "file", "other"):
            use = {"select": "choose", "checkbox": "check", "radio": "choose", "file": "upload"}.get(kind)
            raise ElementNotFound(f"'{selector.name}' is {'a ' + kind if kind != 'other' else 'no'} field to type "
                                  f"into ({info['tag']})" + (f"; use the {use} step" if use else ""))
        if kind == "text":
            typed: list[str] = []
            if clear and info["value"]:
                mod = Keys.COMMAND if info["mac"] else Keys.CONTROL
                typed += [mod, "a", Keys.NULL, Keys.DELETE]  # select all and delete, as a person does
            if value:
                typed.append(value)
            if typed:
                self._guard(lambda: field.send_keys(*typed), f"typing into '{selector.name}'")
        self.changed()  # the next read waits until what typing set off (a search, a validation) has settled
        if not verify:
            return
        expected = value if clear or kind == "picked" else info["value"] + value
        held = self._guard(lambda: self.driver.execute_script(READ_JS, field), f"reading '{selector.name}'")
        if held != expected:
            hint = f" (a {info['type']} input takes {_FORMATS[info['type']]})" if info["type"] in _FORMATS else ""
            raise TechnicalError(f"the field '{selector.name}' holds {_quote(held, info['secret'])} after {what}, "
                                 f"not {_quote(expected, info['secret'])}{hint}")

    def clear_field(self, selector: Selector, timeout: float) -> None:
        """Empty a field as a person does (select all, delete), then check it is empty."""
        self.fill(selector, "", timeout, what="clear")

    # ----- keys
    def press(self, key: str, selector: Selector | None, timeout: float) -> None:
        """Press a key or a chord (`Enter`, `Control+A`, `Shift+Tab`: robots.browser.keys) in an element, or
        wherever the focus is."""
        from selenium.webdriver.common.action_chains import ActionChains

        try:
            held, main = keys.codes(key)
        except ValueError as e:
            raise ElementNotFound(str(e)) from None
        if selector is not None:
            self.act(selector, timeout, f"pressing {key} in", lambda el: el.send_keys(*held, main))
            return

        def chord() -> None:
            actions = ActionChains(self.driver)
            for code in held:
                actions.key_down(code)
            actions.send_keys(main)
            for code in reversed(held):
                actions.key_up(code)
            actions.perform()

        self._guard(chord, f"pressing {key}")
        self.changed()

    # ----- JavaScript and storage
    def run_script(self, code: str, args: list[Any], timeout: float) -> Any:
        """Run a flow's JavaScript (a function body; `arguments` are `args`) in the page; what it returns, as JSON
        values. A promise it returns is waited for, within `timeout`."""
        from selenium.common.exceptions import JavascriptException, TimeoutException

        if self._script_timeout != timeout:
            self._guard(lambda: self.driver.set_script_timeout(timeout), "running a script")
            self._script_timeout = timeout

        def run() -> Any:
            try:
                return self.driver.execute_script(_SCRIPT_HEAD + code + _SCRIPT_TAIL, *args)
            except TimeoutException:
                raise TechnicalError(f"script: what it returned did not settle within {timeout:g} s "
                                     f"on {self.url}") from None
            except JavascriptException as e:  # it does not parse
                message = e.msg.removeprefix("javascript error: ") if e.msg else str(e)
                raise TechnicalError(f"script: the JavaScript does not run: {message.splitlines()[0]}") from None

        got = self._guard(run, "running a script")
        self.changed()
        if "threw" in got:
            raise TechnicalError(f"script: the page's JavaScript threw {got['threw']} on {self.url}")
        if "node" in got:
            raise TechnicalError(f"script: it returned a page element (<{got['node']}>), which is no JSON value; "
                                 "return its text or attributes instead")
        return _json_value(got["ok"])

    def storage(self, area: str, key: str | None, op: str = "get", value: str | None = None) -> Any:
        """The page's localStorage (`area` 'local') or sessionStorage ('session'): get, set or remove `key` (the
        value it has after a set, the value it had before a get or a remove), or every entry (`key` None)."""
        got = self._guard(lambda: self.driver.execute_script(STORAGE_JS, area, key, op, value),
                          f"using {area}Storage")  # fmt: skip
        if "threw" in got:
            raise TechnicalError(f"storage: the page refused {area}Storage: {got['threw']} on {self.url} (open a page "
                                 "of the site first)")
        return got["ok"]


def _json_value(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise TechnicalError("script: it returned something that is no JSON value (a page element inside a list or "
                             "an object?); return text, numbers, true/false, lists and objects") from None
    return value
