"""`paginate` with `fetch: http`, `script` or `page`: the browser has signed in and opened the first page. With http
(the hybrid mode) the next pages are read over plain HTTP with the browser's cookies (one keep-alive client); with
script, the browser fetches each page's HTML from inside the signed-in page (its own cookies, headers and network
stack; nothing is rendered); with page, the browser navigates and its page source is read in one round trip
(navigating and rendering a page costs a headless Chrome several times what fetching it does). Either way the inner
extract steps run on
that HTML (robots.scrape.page, the same scrapers as in the browser) and the next link is read from it. A page
on which a selector matches nothing (its content needs JavaScript) is read the ordinary browser way.

The walk sees the `paginate` step (robots.steps.control) only through the Protocols below, which its StepContext
and PaginateArgs satisfy: the scrapers import nothing of the step library."""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin

from robots.browser.http import PortalHttp, Throttled
from robots.errors import ElementNotFound, TechnicalError
from robots.locators import Selector
from robots.scrape.page import EXTRACT_STEPS, document, find, read_page

if TYPE_CHECKING:
    from robots.browser.page import Browser

log = logging.getLogger("robots.scrape.walk")


class PaginateArgs(Protocol):
    """The arguments of `paginate` the walk reads (robots.steps.control.PaginateArgs)."""

    @property
    def fetch(self) -> str: ...
    @property
    def collect(self) -> str | None: ...
    @property
    def max_pages(self) -> int: ...
    @property
    def url(self) -> str | None: ...


class WalkContext(Protocol):
    """What of the step's context the walk uses (robots.steps.context.StepContext has all of it)."""

    timeout: float

    @property
    def call(self) -> Any:
        """The step being run: its `blocks` (the inner steps)."""
    @property
    def browser(self) -> Browser: ...
    @property
    def time_zone(self) -> str: ...
    def selector(self, ref: str) -> Selector: ...
    def render(self, value: Any) -> Any: ...
    def run_children(self, block: str = "steps") -> None: ...
    def backoff(self, what: str) -> Any: ...
    def throttle_wait(self, backoff: Any, asked: float | None) -> float: ...
    def output_of(self, step_id: str) -> Any: ...
    def count(self, *, pages: int = 0, rows: int = 0) -> None: ...


class StopRule(Protocol):
    """When a page ends the walk (robots.steps.control.FirstRows: its first row repeats an earlier page's)."""

    def repeated(self, ctx: Any, page: int, items: list[Any]) -> bool: ...


class HybridPages:
    def __init__(self, ctx: WalkContext, args: PaginateArgs, next_sel: Selector):
        self.ctx, self.args, self.next_sel = ctx, args, next_sel
        self.children = ctx.call.blocks.get("steps", ())

    def _client(self) -> PortalHttp:
        """A keep-alive client with the browser's cookies and user agent: the same signed-in session."""
        return PortalHttp.from_browser(self.ctx.browser, self.ctx.timeout)

    def _steps(self) -> list[tuple[str, str | None, Any]]:
        """The inner steps with their arguments rendered now (as the engine would run them)."""
        out = []
        for call in self.children:
            raw = call.args.model_dump(exclude_unset=True, by_alias=True, exclude={"when"})
            out.append((call.kind, call.args.id, type(call.args).model_validate(self.ctx.render(raw))))
        return out

    def _get(self, client: PortalHttp, url: str) -> tuple[str, str]:
        response = client.read(url, throttle=True)
        return response.text, str(response.url)

    def _fetch(self, url: str) -> tuple[str, str]:
        """One page fetched by the browser's page (fetch: script); navigated to when the page cannot fetch it or
        the portal answers with an error."""
        b = self.ctx.browser
        got = b.fetch_text(url, self.ctx.timeout)
        if got is not None and got[0] == 429:
            raise Throttled(_wait_in_page(got[2]))
        if got is None or got[0] >= 400:
            # Another origin, or the page refused the request; or the portal answered with an error page: read
            # it by navigating, so that the browser shows the page the walk failed on (the run's evidence).
            return self._navigate(url)
        _, final_url, text = got
        return text, final_url

    def _navigate(self, url: str) -> tuple[str, str]:
        """fetch: page - the browser opens the page; its source, in one round trip, and where it ended up."""
        self.ctx.browser.open(url)
        return self.ctx.browser.page_source() or "", self.ctx.browser.url

    def _read(self, client: PortalHttp | None, url: str, throttled: Throttled | None = None) -> tuple[str, str]:
        """The HTML of the page at `url` and where it ended up, the way `fetch` says; the portal's 429 honoured
        (`throttled`: it answered 429 already, when the page was read ahead)."""
        backoff = None
        while True:
            if throttled is not None:
                backoff = backoff or self.ctx.backoff(f"GET {url}")
                self.ctx.throttle_wait(backoff, throttled.asked)  # back-off: the portal's Retry-After, bounded
            try:
                if client is not None:
                    return self._get(client, url)
                if self.args.fetch == "script":
                    return self._fetch(url)
                return self._navigate(url)
            except Throttled as e:
                throttled = e

    def _in_browser(self, url: str) -> tuple[list[Any], str | None]:
        """Read one page the ordinary way: open it in the browser, run the inner steps, find the next link."""
        ctx = self.ctx
        if ctx.browser.url != url:
            ctx.browser.open(url)
        ctx.run_children()
        items = (ctx.output_of(self.args.collect) or []) if self.args.collect is not None else []
        link = ctx.browser.link(self.next_sel)
        return items, link["href"] if link else None

    def _read_ahead(self, client: PortalHttp | None, url: str, limit: int,
                    more: int = 0) -> tuple[dict[str, Any], str | None]:
        """Pages read ahead of the walk, by the URL they were asked for: (html, final URL), or the error met reading
        it; and the URL of the page after them (fetch: script reads up to `limit` pages in one round trip, following
        their next links in their sources, and goes on reading up to `more` pages after them for the next call;
        the other fetches read the one page)."""
        try:
            if self.args.fetch == "script" and limit > 1:
                batch = self.ctx.browser.fetch_pages(url, self.next_sel, limit, self.ctx.timeout, more)
                if batch is not None:
                    got, after = batch
                    return {asked: _page_read(status, final, text) for asked, status, final, text in got}, after
            return {url: self._read(client, url)}, None
        except TechnicalError as e:  # raised when the walk reaches that page
            return {url: e}, None

    def walk(self, first_rows: StopRule) -> list[Any] | None:
        """Read page after page. The next page is requested as soon as its link is known, and read while this
        page's rows are extracted (fetch: script asks for several pages in one round trip while the page fetches
        the ones after them: at most 2 x _BATCH pages more than the walk needed are fetched)."""
        ctx, args = self.ctx, self.args
        if any(c.kind not in EXTRACT_STEPS for c in self.children):
            kinds = ", ".join(sorted({c.kind for c in self.children if c.kind not in EXTRACT_STEPS}))
            raise TechnicalError(f"paginate with fetch: {self.args.fetch} runs only extract steps on the pages it "
                                 f"reads; found {kinds} (use fetch: browser)")
        steps = self._steps()
        collected: list[Any] = []
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(self._client()) if args.fetch == "http" else None
            # One worker: the browser (fetch: script) is never driven from two threads at once - the walk waits
            # for the request ahead before it uses the browser itself, and before it returns.
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="robots-page"))
            ahead = _Ahead(self, client, pool, args.max_pages - 1)
            if args.url is None:  # the first page is open in the browser already
                html, url = ctx.browser.page_source() or "", ctx.browser.url
            else:
                html, url = self._read(client, args.url)
            for page in range(1, args.max_pages + 1):
                ctx.count(pages=1)
                doc = document(html)
                next_hit = self._next(doc, url)
                if next_hit is not None and page < args.max_pages:
                    ahead.want(next_hit[0])
                next_href: str | None
                try:
                    read = read_page(doc, steps, resolve=ctx.selector, url=url, tz=ctx.time_zone)
                except ElementNotFound as e:
                    log.info("page %d (%s) needs the browser: %s", page, url, e)
                    ahead.settle(more=False)  # the request ahead is done before the browser is driven here
                    items, next_href = self._in_browser(url)
                else:
                    for sel, index in read.matches:
                        self._matched(sel, index)
                    ctx.count(rows=read.rows)
                    items = read.outputs.get(args.collect, []) if args.collect is not None else []
                    if next_hit is not None:
                        self._matched(self.next_sel, next_hit[1])
                    next_href = next_hit[0] if next_hit else None
                if args.collect is not None:
                    if first_rows.repeated(ctx, page, items):
                        break
                    collected.extend(items)
                if next_href is None:
                    break
                if page == args.max_pages:
                    log.warning("pagination stopped at max_pages=%d while a next control was still present", page)
                    break
                html, url = ahead.take(next_href)
        return collected if args.collect is not None else None

    def _next(self, doc: Any, url: str) -> tuple[str, int] | None:
        """The next page's URL and the index of the candidate that found its link (recorded once the page is
        read), or None on the last page."""
        hit = find(doc, self.next_sel)
        if hit is None:
            return None
        elements, index = hit
        el = elements[0]
        anchor = el if el.tag == "a" else next(iter(el.iterancestors("a")), None)
        href = anchor.get("href") if anchor is not None else None
        return (urljoin(url, href), index) if href else None

    def _matched(self, selector: Selector, index: int) -> None:
        """Recorded like the browser's own matches, so that drift shows on the paginate step."""
        browser = self.ctx.browser
        if index and (selector, index) not in browser.matches:
            log.warning("selector drift: %s matched by fallback %s", selector.name, selector.candidates[index])
        browser.matches.append((selector, index))


#: pages fetch: script asks for in one round trip
_BATCH = 8
#: a page read ahead that the portal answered with an error page (not a 429)
_ERROR_PAGE = object()


def _page_read(status: int, final_url: str, text: str) -> Any:
    """What a page read ahead holds for the walk: (html, final URL); for a 429, the wait its page asks for (read
    again after it); for another error page, _ERROR_PAGE (opened in the browser, as a page the portal refused to
    fetch always is: its evidence if it fails again)."""
    if status < 400:
        return text, final_url
    return Throttled(_wait_in_page(text)) if status == 429 else _ERROR_PAGE


class _Ahead:
    """The pages a walk has asked for ahead of reading them, on one worker thread. The browser (fetch: script) is
    never driven from two threads at once: the walk settles the request in flight before it drives the browser
    itself, and the worker pool is shut down (waiting for it) before the walk returns."""

    def __init__(self, pages: HybridPages, client: PortalHttp | None, pool: ThreadPoolExecutor, budget: int):
        self.pages, self.client, self.pool = pages, client, pool
        self.budget = budget  # pages the walk may still ask for (its max_pages)
        self.read: dict[str, Any] = {}  # by the URL asked for: (html, final URL), or the error met reading it
        self.pending: Future[tuple[dict[str, Any], str | None]] | None = None
        self.after: str | None = None  # the page after the last ones read ahead (fetch: script)

    def want(self, url: str) -> None:
        """The walk knows the next page's URL: ask for it (and, by script, the pages after it) unless it is read or
        on its way already."""
        if self.pending is not None and self.pending.done():
            self.settle()
        if url not in self.read and self.pending is None and self.budget > 0:
            self._ask(url)

    def _ask(self, url: str) -> None:
        limit = min(_BATCH, self.budget) if self.pages.args.fetch == "script" else 1
        self.budget -= limit
        more = min(_BATCH, self.budget) if self.pages.args.fetch == "script" else 0  # read on in the page meanwhile
        self.pending = self.pool.submit(self.pages._read_ahead, self.client, url, limit, more)

    def settle(self, more: bool = True) -> None:
        """Wait for the request in flight and keep what it read; with `more`, ask at once for the pages after it."""
        if self.pending is None:
            return
        read, self.after = self.pending.result()
        self.pending = None
        self.read.update(read)
        if more:
            self.ask_after()

    def ask_after(self) -> None:
        """Ask for the pages after the last ones read ahead, when there are more."""
        after, self.after = self.after, None
        if after is not None and after not in self.read and self.pending is None and self.budget > 0:
            self._ask(after)

    def take(self, url: str) -> tuple[str, str]:
        """The page at `url`: read ahead, or read now (the rendered page linked elsewhere than its source did)."""
        if url not in self.read:
            self.settle(more=False)
            if url in self.read:  # keep the browser fetching the pages after these while the walk reads them
                self.ask_after()
        got = self.read.pop(url, None)
        if isinstance(got, tuple):
            return got
        if isinstance(got, BaseException) and not isinstance(got, Throttled):
            raise got
        # Not read ahead, a 429 to read again after its wait, or an error page: nothing may be in flight while the
        # walk drives the browser itself.
        self.settle(more=False)
        return self.pages._navigate(url) if got is _ERROR_PAGE else self.pages._read(self.client, url, got)


def _wait_in_page(html: str) -> float | None:
    from robots.throttle import wait_in_text

    return wait_in_text(document(html).text_content()) if html.strip() else None
