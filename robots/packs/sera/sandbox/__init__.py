"""The bundled sandbox Sera portal: a realistic stand-in that robots log in to and scrape (docs/CONTRACTS.md C1, C6).

Only the CLI's `sandbox` command, the embedded default portal and test fixtures import this, lazily.
"""

from __future__ import annotations

from .accounts import TENANT, TIME_ZONE, credentials, users
from .data import SIZES
from .server import SandboxServer, serve_forever
from .tenants import TENANTS

__all__ = ["SIZES", "TENANT", "TENANTS", "TIME_ZONE", "SandboxServer", "credentials", "serve_forever", "users"]
