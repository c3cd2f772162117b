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

FIND_JS = LOOKUP_JS + """
const groups = arguments[0], state = arguments[1];
function ok(el) {
  if (state === 'present') return true;
  if (!el.getClientRects().length) return false;
  const st = getComputedStyle(el);
  if (st.visibility === 'hidden' || st.display === 'none' || st.opacity === '0') return false;
  return state !== 'clickable' || !el.disabled;
}
for (let g = 0; g < groups.length; g++) {
  const [cands, scope] = groups[g], root = rootOf(scope);
  if (!root) continue;
  for (let c = 0; c < cands.length; c++) {
    for (const el of all(cands[c][0], cands[c][1], root === document ? null : root)) {
      if (ok(el)) return [g, c, el];
    }
  }
}
return null;
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

LINK_JS = FIND_JS.replace("const groups = arguments[0], state = arguments[1];",
                            "const groups = arguments[0], state = 'visible';").replace(
    "if (ok(el)) return [g, c, el];",
    "if (ok(el)) { const a = el.closest('a');"
    " return {index: c, href: a ? a.href : null,"
    " plain: !!(a && a.href && /^https?:/.test(a.href) && !a.getAttribute('onclick') && !a.target)}; }")


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
# through CDP before any page script runs), for wait_for network_idle and wait_xhr.
NET_HOOK = """
(() => {
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
