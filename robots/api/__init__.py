"""The unofficial Sera API (issue 9): FastAPI endpoints backed by the Sera flows, run by the ordinary Runner.

`create_app(settings)` builds the app; `robots serve` runs it under uvicorn. Every error is one JSON envelope
(robots.api.errors), every endpoint checks a token's scopes (robots.api.tokens), writes take an Idempotency-Key
(robots.api.idempotency), and slow work is a run (`202` + `Location: /runs/{id}`).
"""

from __future__ import annotations

from robots.api.app import create_app
from robots.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
