"""Hybrid reads: plain HTTP requests that reuse the browser's cookies (a signed-in session), for pages that
need no JavaScript, and downloads with checksums."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin

import httpx
from pydantic import Field, model_validator

from robots.browser.http import PortalHttp
from robots.errors import TechnicalError
from robots.scrape.tables import FieldSpec, parse_table
from robots.steps.base import SelectorRef, StepArgs, step
from robots.steps.shapes import NUMBER, TEXT, Shape, ShapeSource, record

if TYPE_CHECKING:
    from robots.steps.context import StepContext


def _get(ctx: StepContext, url: str) -> httpx.Response:
    """GET `url` (relative to the browser's page) with the browser's session: its cookies and user agent."""
    absolute = urljoin(ctx.browser.url, url)
    with PortalHttp.from_browser(ctx.browser, ctx.timeout) as http:
        return http.read(absolute)


class HttpGetArgs(StepArgs):
    primary: ClassVar[str | None] = "url"
    url: str = Field(description="absolute, or relative to the browser's current page")
    table: str | None = Field(None, description="CSS id of the table to read (with `fields`), e.g. customers-table")
    fields: dict[str, FieldSpec] | None = None

    @model_validator(mode="after")
    def _both(self) -> HttpGetArgs:
        if (self.table is None) != (self.fields is None):
            raise ValueError("give 'table' and 'fields' together (or neither, for the page's text)")
        return self


@step("http_get")
def http_get(ctx: StepContext, args: HttpGetArgs) -> Any:
    """GET a page over plain HTTP with the browser's cookies (fast, no rendering). With `table` and
    `fields`, read that table like extract_table; else the output is the response text."""
    response = _get(ctx, args.url)
    if args.table is None or args.fields is None:
        return response.text
    html = response.text
    m = re.search(rf'<table\b[^>]*\bid="{re.escape(args.table)}"', html)
    if m is None:
        raise TechnicalError(f"http_get: no <table id=\"{args.table}\"> in {response.url}")
    extra = {"source_url": str(response.url), "scraped_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    rows = parse_table(html[m.start():], args.fields, base_url=str(response.url), tz=ctx.time_zone, extra=extra)
    ctx.count(rows=len(rows))
    return rows


class DownloadArgs(StepArgs):
    example: ClassVar[str | None] = "- download: {link: customers.export, file: customers.csv}"
    url: str | None = Field(None, description="what to download (absolute or relative to the current page)")
    link: SelectorRef | None = Field(None, description="or: a link on the page whose href is downloaded")
    file: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+$", description="name to save it under")
    sha256: str | None = Field(None, description="the SHA-256 the file must have (e.g. the `sha256` of the file an "
                                                 "`upload` sent): a file that differs is an error naming both digests")

    @model_validator(mode="after")
    def _one(self) -> DownloadArgs:
        if (self.url is None) == (self.link is None):
            raise ValueError("give exactly one of 'url' or 'link'")
        return self

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return record({"path": TEXT, "size": NUMBER, "sha256": TEXT, "content_type": TEXT, "url": TEXT},
                      "the file downloaded")


@step("download")
def download(ctx: StepContext, args: DownloadArgs) -> dict[str, Any]:
    """Download a file with the browser's session into the run's folder (downloads/). Output: {path, size,
    sha256, content_type, url}; a checksum the server sends (X-Checksum-SHA256), and `sha256` when given, must
    match the bytes received."""
    url = args.url or ctx.browser.attribute(ctx.selector(args.link or ""), "href", ctx.timeout) or ""
    response = _get(ctx, url)
    data = response.content
    digest = hashlib.sha256(data).hexdigest()
    claimed = response.headers.get("x-checksum-sha256")
    if claimed and claimed.lower() != digest:
        raise TechnicalError(f"download: the file's SHA-256 {digest} is not the {claimed} the server announced")
    if args.sha256 and args.sha256.strip().lower() != digest:
        raise TechnicalError(f"download: checksum mismatch: the downloaded file's SHA-256 is {digest}, expected "
                             f"{args.sha256.strip().lower()}")
    name = args.file or _filename(response) or "download"
    folder = ctx.run_dir / "downloads"
    folder.mkdir(exist_ok=True)
    target = folder / name
    target.write_bytes(data)
    return {"path": str(target), "size": len(data), "sha256": digest,
            "content_type": response.headers.get("content-type"), "url": str(response.url)}


def _filename(response: httpx.Response) -> str | None:
    m = re.search(r'filename="?([^";]+)"?', response.headers.get("content-disposition", ""))
    name = m.group(1) if m else Path(response.url.path).name
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return name or None
