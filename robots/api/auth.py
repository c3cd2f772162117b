"""The API's tokens are robots/api/tokens.py. This name stays only for the routers that still import it
(robots/api/routers; the portal packs' routes import robots.api.tokens); delete it once they import that."""

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
