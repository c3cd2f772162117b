"""Authentication steps: TOTP codes from pyotp."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pyotp

from robots.errors import InputError
from robots.steps.base import SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.engine import StepContext

#: a code with less life left than this is not typed; the step waits for the next window instead
MIN_CODE_LIFE = 3.0


class TotpArgs(StepArgs):
    target: SelectorRef
    secret: str
    submit: SelectorRef | None = None


def _totp(secret: str) -> pyotp.TOTP:
    s = secret.strip()
    try:
        if s.startswith("otpauth://"):
            otp = pyotp.parse_uri(s)
            if not isinstance(otp, pyotp.TOTP):
                raise ValueError("not a TOTP URI")
            return otp
        otp = pyotp.TOTP(s.replace(" ", "").upper())
        otp.now()
        return otp
    except (ValueError, TypeError):
        # The message names no part of the secret.
        raise InputError("the TOTP secret is neither base32 nor an otpauth:// URI") from None


@step("totp")
def totp(ctx: StepContext, args: TotpArgs) -> None:
    """Type the current TOTP code into `target` (and click `submit` if given). A code about to expire
    is not used: the step waits for the next 30-second window."""
    otp = _totp(args.secret)
    remaining = otp.interval - (time.time() % otp.interval)
    if remaining < MIN_CODE_LIFE:
        time.sleep(remaining + 0.05)  # back-off: wait for the next TOTP window, at most MIN_CODE_LIFE s
    ctx.browser.fill(ctx.selector(args.target), otp.now(), ctx.timeout)
    if args.submit:
        ctx.browser.click(ctx.selector(args.submit), ctx.timeout)
