"""The JavaScript the page facade (robots.browser.page) runs in the browser: element lookup by catalog candidates
(one round trip per poll), fetching from inside the signed-in page, and the network hook that counts the page's own
requests (added by robots.browser.launch.prepare)."""

from __future__ import annotations

# Finds the first visible (or present/clickable) element of the first matching group of candidates.
# Element lookup in the page: groups of [candidates, scope candidates or null]; the scope is the first element
# of the first scope candidate that matches (an XPath starting with / is made relative to it).
LOOKUP_JS = """
function all(kind, value, root) {
  if (kind === 'xpath') {
    const expr = root && value.startsWith('/') ? '.' + value : value;
    const r = document.evaluate(expr, root || document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = []; for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i)); return out;
  }
  return Array.from((root || document).querySelectorAll(value));
}
function rootOf(scope) {
  if (!scope) return document;
  for (const [kind, value] of scope) { const els = all(kind, value, null); if (els.length) return els[0]; }
  return null;
}
"""

# Finds the first element of the first matching group in `state` (present, visible, clickable).
FIND_FN = """
function ok(el, state) {
  if (state === 'present') return true;
  if (!el.getClientRects().length) return false;
  const st = getComputedStyle(el);
  if (st.visibility === 'hidden' || st.display === 'none' || st.opacity === '0') return false;
  return state !== 'clickable' || !el.disabled;
}
function findIn(groups, state) {
  for (let g = 0; g < groups.length; g++) {
    const [cands, scope] = groups[g], root = rootOf(scope);
    if (!root) continue;
    for (let c = 0; c < cands.length; c++) {
      for (const el of all(cands[c][0], cands[c][1], root === document ? null : root)) {
        if (ok(el, state)) return [g, c, el];
      }
    }
  }
  return null;
}
"""

FIND_JS = LOOKUP_JS + FIND_FN + "return findIn(arguments[0], arguments[1]);"

# Actionability (asynchronous: it waits two animation frames): the first visible element of the groups, and why it
# cannot be acted on yet - null when it can: attached, visible, enabled, its box unmoved for two animation frames,
# inside the viewport (scrolled to the middle when not) and not covered by another element at its middle.
ACTIONABLE_JS = LOOKUP_JS + FIND_FN + """
const groups = arguments[0], done = arguments[arguments.length - 1];
const hit = findIn(groups, 'visible');
if (!hit || hit[0] < groups.length - 1) { done(hit); return; }
const el = hit[2];
function describe(n) {
  let out = '<' + n.tagName.toLowerCase();
  for (const a of ['id', 'class', 'role', 'data-cy']) {
    const v = n.getAttribute && n.getAttribute(a);
    if (v) out += ' ' + a + '="' + (v.length > 60 ? v.slice(0, 57) + '...' : v) + '"';
  }
  return out + '>';
}
function box() { const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].join(); }
function frame(then) {
  let ran = false;
  const timer = setTimeout(() => { ran = true; then(); }, 100);  // a page that draws no frames (hidden)
  requestAnimationFrame(() => { if (!ran) { ran = true; clearTimeout(timer); then(); } });
}
function why() {
  if (el.disabled || el.matches(':disabled') || el.getAttribute('aria-disabled') === 'true') return 'is disabled';
  return null;
}
const first = why();
if (first) { done([...hit, first]); return; }
const before = box();
frame(() => frame(() => {
  if (!el.isConnected) { done([...hit, 'is no longer attached to the page']); return; }
  if (box() !== before) { done([...hit, 'is still animating']); return; }
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) {
    el.scrollIntoView({block: 'center', inline: 'center'});
    done([...hit, 'is outside the visible part of the page']);
    return;
  }
  const top = (el.getRootNode().elementFromPoint ? el.getRootNode() : document).elementFromPoint(x, y);
  const label = top && top.closest && top.closest('label');
  if (!top || top === el || el.contains(top) || (label && label.control === el)) { done([...hit, null]); return; }
  done([...hit, 'is covered by ' + describe(top)]);
}));
"""

ALL_JS = LOOKUP_JS + """
const [cands, scope] = arguments[0], root = rootOf(scope);
if (!root) return [];
for (const [kind, value] of cands) {
  const els = all(kind, value, root === document ? null : root);
  if (els.length) return els.map(e => e.outerHTML);
}
return [];
"""

COUNT_JS = LOOKUP_JS + """
const [cands, scope] = arguments[0], root = rootOf(scope);
if (!root) return 0;
for (const [kind, value] of cands) {
  const n = all(kind, value, root === document ? null : root).length;
  if (n) return n;
}
return 0;
"""

# The first visible element of a selector as a link: {index, href, plain, disabled} (plain: a navigation to href
# follows it exactly - no script handler, same window; disabled: a control that cannot be used, e.g. the "next"
# button of a last page).
LINK_JS = LOOKUP_JS + FIND_FN + """
const hit = findIn(arguments[0], 'visible');
if (!hit) return null;
const el = hit[2], a = el.closest('a');
return {index: hit[1], href: a ? a.href : null,
        plain: !!(a && a.href && /^https?:/.test(a.href) && !a.getAttribute('onclick') && !a.target),
        disabled: !!(el.disabled || el.matches(':disabled') || el.getAttribute('aria-disabled') === 'true'
                     || (a && a.getAttribute('aria-disabled') === 'true'))};
"""


# One GET from inside the current page (its cookies, the browser's network stack), aborted after `ms`.
FETCH_JS = """
const [url, ms, done] = arguments;
const ctl = new AbortController();
const timer = setTimeout(() => ctl.abort(), ms);
fetch(url, {credentials: 'same-origin', signal: ctl.signal, headers: {'Accept': 'text/html'}})
  .then(r => r.text().then(text => done({status: r.status, url: r.url, text})))
  .catch(e => done(e.name === 'AbortError' ? {timeout: true} : {error: String(e)}))
  .finally(() => clearTimeout(timer));
"""

# Pages fetched one after another inside the signed-in page: each page's next link is found in its source (parsed,
# never rendered) by the first candidate that matches, as robots.scrape.page.find does on the Python side.
FETCH_PAGES_JS = """
const [url, cands, limit, more, ms, done] = arguments;
function nextOf(doc, base) {
  for (const [kind, value] of cands) {
    let el = null;
    if (kind === 'xpath') {
      const r = doc.evaluate(value, doc, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
      for (let i = 0; i < r.snapshotLength && !el; i++) if (r.snapshotItem(i).nodeType === 1) el = r.snapshotItem(i);
    } else {
      el = doc.querySelector(value);
    }
    if (el) {
      const a = el.closest('a'), href = a && a.getAttribute('href');
      return href ? new URL(href, base).href : null;
    }
  }
  return null;
}
// Pages fetched before the walk asked for them, by URL (their promises), kept in the page until asked for.
const ahead = window.__robotsAhead || (window.__robotsAhead = new Map());
function load(u) {
  const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), ms);
  return fetch(u, {credentials: 'same-origin', signal: ctl.signal, headers: {'Accept': 'text/html'}})
    .then(r => r.text().then(text => ({asked: u, status: r.status, url: r.url, text,
      next: r.status < 400 ? nextOf(new DOMParser().parseFromString(text, 'text/html'), r.url) : null})))
    .catch(e => ({asked: u, failed: e.name === 'AbortError' ? 'timeout' : String(e)}))
    .finally(() => clearTimeout(timer));
}
function take(u) { const p = ahead.get(u) || load(u); ahead.delete(u); return p; }
(async () => {
  const pages = [];
  let next = url;
  while (next && pages.length < limit) {
    const p = await take(next);
    if (p.failed) {
      if (pages.length) done({pages, next: null, stopped: p.failed});
      else done(p.failed === 'timeout' ? {timeout: true} : {error: p.failed});
      return;
    }
    pages.push(p);
    next = p.next;
  }
  done({pages, next});
  // Read on while the walk reads these: up to `more` pages after them (each fetched once: the next call takes it).
  for (let u = next, k = 0; u && k < more && !ahead.has(u); k++) {
    const p = load(u);
    ahead.set(u, p);
    const got = await p;
    u = got.failed || got.status >= 400 ? null : got.next;
  }
})();
"""

# Counts the page's pending fetch/XHR requests and remembers the completed URLs, in every document (added
# through CDP before any page script runs), for wait_for network_idle and wait_xhr. And the document's changes once
# it is parsed (window.__robotsDom): when it last changed, and the nodes each recent batch of changes touched, for
# the settled-page wait (robots.browser.page.base, SETTLE_JS). The requests in flight that wait counts come from
# Chrome's network events, not from here.
NET_HOOK = """
(() => {
  if (!window.__robotsDom && window.MutationObserver) {
    const d = window.__robotsDom = {last: 0, lost: 0, batches: []};
    let parsed = document.readyState !== 'loading';
    if (!parsed) document.addEventListener('DOMContentLoaded', () => { parsed = true; });
    new MutationObserver((records) => {
      if (!parsed) return;  // the parser building the page is its load, not a change
      const at = Date.now(), nodes = new Set(), added = new Set();
      for (const r of records) {
        nodes.add(r.target);
        for (const n of r.addedNodes) added.add(n);
        if (nodes.size + added.size > 64) break;
      }
      d.last = at;
      d.batches.push(nodes.size + added.size > 64 ? {at, nodes: null, added: null}
                     : {at, nodes: Array.from(nodes), added: Array.from(added)});
      while (d.batches.length > 200 || (d.batches.length && at - d.batches[0].at > 5000)) {
        d.lost = Math.max(d.lost, d.batches.shift().at);
      }
    }).observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
  }
  if (window.__robots) return;
  const r = window.__robots = {pending: 0, done: [], last: Date.now()};
  const settle = (url) => { r.pending = Math.max(0, r.pending - 1); r.done.push(String(url)); r.last = Date.now();
                            if (r.done.length > 500) r.done.shift(); };
  const origFetch = window.fetch;
  if (origFetch) window.fetch = function(input, init) {
    const url = (input && input.url) || String(input); r.pending++; r.last = Date.now();
    return origFetch.apply(this, arguments).then(res => { settle(res.url || url); return res; },
                                                 err => { settle(url); throw err; });
  };
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function(m, url) { this.__robotsUrl = url; return open.apply(this, arguments); };
  XMLHttpRequest.prototype.send = function() {
    r.pending++; r.last = Date.now();
    this.addEventListener('loadend', () => settle(this.responseURL || this.__robotsUrl));
    return send.apply(this, arguments);
  };
})();
"""

# The settled-page probe: [the page's clock (ms), when the first element of the selector (a region; none: the whole
# document) last changed or was put in (0: not since the page was parsed), and with arguments[1] (a read that may be
# done at once when the page has settled) the index of the candidate that matched and the element's outer HTML].
SETTLE_JS = LOOKUP_JS + FIND_FN + """
const d = window.__robotsDom, now = Date.now();
const hit = arguments[0] ? findIn([arguments[0]], 'present') : null;
const read = hit && arguments[1] ? [hit[1], hit[2].outerHTML] : [null, null];
if (!d) return [now, 0, ...read];
if (!hit) return [now, d.last, ...read];
const el = hit[2];
let last = d.lost;
for (const b of d.batches) {
  if (b.at <= last) continue;
  // a change inside the element, or the element (or an ancestor) put in
  if (!b.nodes || b.nodes.some(n => el.contains(n)) || b.added.some(n => n.contains && n.contains(el))) last = b.at;
}
return [now, last, ...read];
"""
