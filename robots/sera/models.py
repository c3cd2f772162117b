"""Normalized Sera records (shared/DOMAIN.md). A list view fills what it shows and leaves the rest None."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from robots.scrape.contracts import register_model

_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


class SeraRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source_url: str
    scraped_at: str = Field(pattern=_UTC)


class Customer(SeraRecord):
    id: str
    number: str | None = None
    name: str
    type: Literal["residential", "commercial"] | None = None
    status: Literal["active", "inactive", "on_hold"] | None = None
    raw_status: str | None = None
    raw_type: str | None = None
    email: str | None = None
    phones: list[str] = Field(default_factory=list)
    city: str | None = None
    tags: list[str] | None = None
    balance_cents: int | None = None
    created_at: str | None = Field(None, pattern=_UTC)
    modified_at: str | None = Field(None, pattern=_UTC)
    do_not_service: bool | None = None
    locations: list[str] | None = None
    primary_contact: str | None = None


register_model("sera.customer", Customer)
