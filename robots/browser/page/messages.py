"""Telling the portal's answer from what was on screen before the question: elements on screen when a step is about
to submit are marked (with their text), and the wait that follows counts only an element that was not there then,
or whose text has changed, or that went away and came back. A single-page app keeps its page, and its notifications,
across a sign-in: an old "Please sign in to continue." is no answer to the password just sent."""

from __future__ import annotations

import itertools
import time

from robots.browser.page.base import PageBase, poll
from robots.browser.scripts import FIND_FN, LOOKUP_JS
from robots.errors import ElementNotFound
from robots.locators import Selector

# Shown: still in the document and visible as every wait of robots.browser.scripts sees it (FIND_FN's `ok`).
_VISIBLE_JS = FIND_FN + """
function shown(el) { return el.isConnected && ok(el, 'visible'); }
function words(el) { return (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim(); }
"""

# Marks every element of the groups on screen now with (mark, its text); they are kept in a list on the window so
# that the waits below can forget an element's mark once it has left the screen.
MARK_JS = LOOKUP_JS + _VISIBLE_JS + """
const groups = arguments[0], mark = arguments[1];
const kept = window.__robotsShown = (window.__robotsShown || []).filter(el => el.isConnected);
for (const [cands, scope] of groups) {
  const root = rootOf(scope);
  if (!root) continue;
  for (const [kind, value] of cands) {
    for (const el of all(kind, value, root === document ? null : root)) {
      if (!shown(el)) continue;
      el.__robotsShown = {mark: mark, text: words(el)};
      kept.push(el);
    }
  }
}
"""

# The first group (in order) with an element on screen that is new since `mark`: [group, candidate, its text]; else
# [-1, -1, [[group, text], ...] of the marked elements still on screen].
NEW_JS = LOOKUP_JS + _VISIBLE_JS + """
const groups = arguments[0], mark = arguments[1];
for (const el of (window.__robotsShown || [])) {
  if (el.__robotsShown && el.__robotsShown.mark === mark && !shown(el)) delete el.__robotsShown;  // it went away
}
const old = [];
for (let g = 0; g < groups.length; g++) {
  const [cands, scope] = groups[g], root = rootOf(scope);
  if (!root) continue;
  for (let c = 0; c < cands.length; c++) {
    for (const el of all(cands[c][0], cands[c][1], root === document ? null : root)) {
      if (!shown(el)) continue;
      const seen = el.__robotsShown, text = words(el);
      if (seen && seen.mark === mark && seen.text === text) { old.push([g, text]); continue; }
      return [g, c, text];
    }
  }
}
return [-1, -1, old];
"""

_MARKS = itertools.count(1)


class Messages(PageBase):
    def mark_shown(self, selectors: list[Selector]) -> int:
        """Mark the elements of `selectors` on screen now; `first_new_of(..., mark)` then passes them over."""
        mark = next(_MARKS)
        self._enter_frame(selectors[-1].frame)
        self._guard(lambda: self.driver.execute_script(MARK_JS, [s.spec() for s in selectors], mark),
                    "reading the page")
        return mark

    def first_new_of(self, selectors: list[Selector], timeout: float, mark: int) -> tuple[int, str]:
        """Wait until an element of any of `selectors` is on screen that was not at `mark` (a new one, one whose text
        changed, or one that left the screen and came back): (the index of its selector, in the order given, its
        text). The error of a wait that saw only the old ones names them and what they said."""
        deadline = time.monotonic() + timeout
        specs = [s.spec() for s in selectors]
        names = ", ".join(f"'{s.name}'" for s in selectors)
        while True:
            self._enter_frame(selectors[-1].frame)
            group, index, found = self._guard(lambda: self.driver.execute_script(NEW_JS, specs, mark),
                                              "waiting for the page")  # fmt: skip
            if group >= 0:
                self._matched(selectors[group], index)
                return int(group), str(found)
            self.check_page(names if len(selectors) == 1 else f"one of {names}")
            if not poll(deadline):
                message = f"none of {names} appeared within {timeout:g} s on {self.url}"
                if found:
                    old = "; ".join(f"'{selectors[g].name}' still shows {text!r}" for g, text in found[:3])
                    message += f" ({old}, as it did before the step submitted)"
                raise ElementNotFound(message)
