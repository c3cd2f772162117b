"""The API's tokens are robots/api/tokens.py. This name stays only for the modules not yet moved into the Sera
pack (robots/api/routers import it); delete it once they import robots.api.tokens."""

from robots.api.tokens import (
    OPERATOR_SCOPES,
    SESSION_SCOPES,
    Principal,
    authenticated,
    check_scopes,
    need,
    served_portals,
)

__all__ = ["OPERATOR_SCOPES", "SESSION_SCOPES", "Principal", "authenticated", "check_scopes", "need", "served_portals"]
