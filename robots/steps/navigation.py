"""Navigation steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import field_validator

from robots.errors import TechnicalError
from robots.steps.base import StepArgs, step

if TYPE_CHECKING:
    from robots.engine import StepContext

class OpenArgs(StepArgs):
    primary: ClassVar[str | None] = "url"
    url: str

    @field_validator("url")
    @classmethod
    def _absolute(cls, v: str) -> str:
        if "{{" not in v and not v.startswith(("http://", "https://", "about:", "file:")):
            raise ValueError("the URL must be absolute (http:// or https://); use '{{ portal.url }}/path'")
        return v


@step("open")
def open_(ctx: StepContext, args: OpenArgs) -> str:
    """Open a URL and wait until its document is ready. Output: the URL after redirects."""
    if not args.url.startswith(("http://", "https://", "about:", "file:")):
        raise TechnicalError(f"open: the URL must be absolute, got {args.url!r}")
    ctx.browser.open(args.url)
    return ctx.browser.url
