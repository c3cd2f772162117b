"""`paginate` with `fetch: http` or `fetch: page`: the browser has signed in and opened the first page. With http
(the hybrid mode) the next pages are read over plain HTTP with the browser's cookies (one keep-alive client); with
page, the browser navigates and its page source is read in one round trip. Either way the inner extract steps run
on that HTML (robots.scrape.page, the same scrapers as in the browser) and the next link is read from it. A page
on which a selector matches nothing (its content needs JavaScript) is read the ordinary browser way."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import httpx

from robots.browser.locators import Selector
from robots.errors import ElementNotFound, PortalUnreachable, StepTimeout, TechnicalError
from robots.scrape.page import EXTRACT_STEPS, find, read_page

if TYPE_CHECKING:
    from robots.engine import StepContext
    from robots.steps.control import FirstRows, PaginateArgs

log = logging.getLogger("robots.steps.hybrid")


class HybridPages:
    def __init__(self, ctx: StepContext, args: PaginateArgs, next_sel: Selector):
        self.ctx, self.args, self.next_sel = ctx, args, next_sel
        self.children = ctx.call.blocks.get("steps", ())

    def _client(self) -> httpx.Client:
        """A keep-alive client with the browser's cookies and user agent: the same signed-in session."""
        b = self.ctx.browser
        jar = httpx.Cookies()
        for c in b.cookies():
            jar.set(c["name"], c["value"], domain=c.get("domain", ""), path=c.get("path", "/"))
        agent = b.script("return navigator.userAgent;")
        return httpx.Client(cookies=jar, headers={"User-Agent": agent}, timeout=self.ctx.timeout,
                            follow_redirects=True)  # fmt: skip

    def _steps(self) -> list[tuple[str, str | None, Any]]:
        """The inner steps with their arguments rendered now (as the engine would run them)."""
        out = []
        for call in self.children:
            raw = call.args.model_dump(exclude_unset=True, by_alias=True, exclude={"when"})
            out.append((call.kind, call.args.id, type(call.args).model_validate(self.ctx.render(raw))))
        return out

    def _get(self, client: httpx.Client, url: str) -> tuple[str, str]:
        try:
            response = client.get(url)
        except httpx.TimeoutException:
            raise StepTimeout(f"GET {url} took longer than {self.ctx.timeout:g} s") from None
        except httpx.HTTPError as e:
            raise PortalUnreachable(f"GET {url} failed: {type(e).__name__}") from None
        if response.status_code >= 400:
            raise TechnicalError(f"GET {url} answered {response.status_code}")
        return response.text, str(response.url)

    def _in_browser(self, url: str) -> tuple[list[Any], str | None]:
        """Read one page the ordinary way: open it in the browser, run the inner steps, find the next link."""
        ctx = self.ctx
        if ctx.browser.url != url:
            ctx.browser.open(url)
        ctx.run_children()
        items = (ctx.output_of(self.args.collect) or []) if self.args.collect is not None else []
        link = ctx.browser.link(self.next_sel)
        return items, link["href"] if link else None

    def walk(self, first_rows: FirstRows) -> list[Any] | None:
        ctx, args = self.ctx, self.args
        if any(c.kind not in EXTRACT_STEPS for c in self.children):
            kinds = ", ".join(sorted({c.kind for c in self.children if c.kind not in EXTRACT_STEPS}))
            raise TechnicalError(f"paginate with fetch: {self.args.fetch} runs only extract steps on the pages it "
                                 f"reads; found {kinds} (use fetch: browser)")
        steps = self._steps()
        collected: list[Any] = []
        with self._client() if args.fetch == "http" else contextlib.nullcontext() as client:
            if args.url is None:  # the first page is open in the browser already
                html, url = ctx.browser.page_source() or "", ctx.browser.url
            elif client is None:
                ctx.browser.open(args.url)
                html, url = ctx.browser.page_source() or "", ctx.browser.url
            else:
                html, url = self._get(client, args.url)
            for page in range(1, args.max_pages + 1):
                ctx.count(pages=1)
                next_href: str | None
                try:
                    read = read_page(html, steps, resolve=ctx.selector, url=url, tz=ctx.time_zone)
                except ElementNotFound as e:
                    log.info("page %d (%s) needs the browser: %s", page, url, e)
                    items, next_href = self._in_browser(url)
                else:
                    for sel, index in read.matches:
                        self._matched(sel, index)
                    ctx.count(rows=read.rows)
                    items = read.outputs.get(args.collect, []) if args.collect is not None else []
                    next_href = self._next(read.doc, url)
                if args.collect is not None:
                    if first_rows.repeated(ctx, page, items):
                        break
                    collected.extend(items)
                if next_href is None:
                    break
                if page == args.max_pages:
                    log.warning("pagination stopped at max_pages=%d while a next control was still present", page)
                    break
                if client is None:  # fetch: page - the browser navigates, its source is the page
                    ctx.browser.open(next_href)
                    html, url = ctx.browser.page_source() or "", ctx.browser.url
                else:
                    html, url = self._get(client, next_href)
        return collected if args.collect is not None else None

    def _next(self, doc: Any, url: str) -> str | None:
        hit = find(doc, self.next_sel)
        if hit is None:
            return None
        elements, index = hit
        self._matched(self.next_sel, index)
        el = elements[0]
        anchor = el if el.tag == "a" else next(iter(el.iterancestors("a")), None)
        href = anchor.get("href") if anchor is not None else None
        return urljoin(url, href) if href else None

    def _matched(self, selector: Selector, index: int) -> None:
        """Recorded like the browser's own matches, so that drift shows on the paginate step."""
        browser = self.ctx.browser
        if index and (selector, index) not in browser.matches:
            log.warning("selector drift: %s matched by fallback %s", selector.name, selector.candidates[index])
        browser.matches.append((selector, index))
