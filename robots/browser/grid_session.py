"""A Selenium Grid over plain HTTP: whether one answers at a URL, and ending a session it holds (the remote kind's
quit and kill, and the orphan sweep, which must work whatever state the session's driver is in)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

from robots.errors import BrowserError

log = logging.getLogger("robots.browser")

#: where the Grid's URL is set (said by every error that a missing or wrong Grid causes)
WHERE = "set browser.grid_url in the flow, ROBOTS_GRID_URL, or --grid-url"


def grid_status(url: str, timeout: float = 5.0) -> dict:
    """The Grid's `/status` value; a BrowserError that says what is wrong when there is no Grid at `url`, or
    no node behind it."""
    status_url = url.rstrip("/") + "/status"
    try:
        with urllib.request.urlopen(status_url, timeout=timeout) as resp:  # noqa: S310 - a configured URL
            body = resp.read()
    except urllib.error.HTTPError as e:
        raise BrowserError(f"{url} does not answer as a Selenium Grid (GET /status: HTTP {e.code}); "
                           f"start a Grid there or {WHERE}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise BrowserError(f"could not reach the Selenium Grid at {url} ({reason}); start it "
                           f"(java -jar selenium-server-<version>.jar standalone) or {WHERE}") from None
    try:
        value = json.loads(body)["value"]
        ready = bool(value["ready"])
    except (ValueError, KeyError, TypeError):
        raise BrowserError(f"{url} does not answer as a Selenium Grid (GET /status is not a Grid status); "
                           f"start a Grid there or {WHERE}") from None
    # A Grid whose slots are all taken says "not ready" too, and queues new sessions: that is fine.
    if not ready and not any(n.get("availability") == "UP" for n in value.get("nodes") or []):
        raise BrowserError(f"the Selenium Grid at {url} has no node up ({value.get('message', 'no message')})")
    return value


def end_session(record: Path) -> bool:
    """Delete the Grid session that `record` (remote.json in a run's folder) names; remove the record once the
    Grid no longer has it. False (and a warning) when the Grid could not be told."""
    try:
        data = json.loads(record.read_text())
    except FileNotFoundError:
        return True
    except ValueError:
        record.unlink(missing_ok=True)
        return True
    url = f"{data['grid_url'].rstrip('/')}/session/{data['session_id']}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=10):  # noqa: S310
            pass
    except urllib.error.HTTPError as e:
        if e.code != 404:  # 404: the Grid has no such session (any more)
            log.warning("could not end the remote session %s (HTTP %s); the Grid ends it after its session timeout",
                        url, e.code)
            return False
    except (urllib.error.URLError, OSError) as e:
        log.warning("could not end the remote session %s (%s); the Grid ends it after its session timeout",
                    url, getattr(e, "reason", e))
        return False
    record.unlink(missing_ok=True)
    return True
