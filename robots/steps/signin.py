"""Authentication steps: `login` (username and password), `mfa` (whatever second factor the portal asks
for), `totp`, `mfa_code` (a code from an SMS or e-mail code source) and `sso` (through an identity provider).

Outcomes a robot must not retry blindly are business failures with the portal's own words: a rejected
password (`CredentialsRejected`, which the session store remembers for lockout safety), a rejected code,
and pages that need a human (a password change, a new-device confirmation, maintenance: `stop_on`).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

import pyotp
from pydantic import Field, model_validator

from robots.auth.codes import CodeSourceSpec, mark_used, open_source, wait_for_code
from robots.errors import BusinessFailure, CredentialsRejected, InputError
from robots.steps.base import SelectorKeys, SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.locators import Selector
    from robots.steps.context import StepContext

#: a code with less life left than this is not typed; the step waits for the next window instead
MIN_CODE_LIFE = 3.0
#: portals refuse every code for a moment after a wrong one; the retry waits this long first
REJECTED_CODE_PAUSE = 2.0
#: without a sign-in time to go by, a code counts as new when it was sent less than this long ago
CODE_MAX_AGE = timedelta(minutes=2)


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


def _fresh_code(otp: pyotp.TOTP, ahead: int = 0) -> str:
    """The code of the current window (or `ahead` windows later); waits out a window about to close."""
    remaining = otp.interval - (time.time() % otp.interval)
    if not ahead and remaining < MIN_CODE_LIFE:
        time.sleep(remaining + 0.05)  # back-off: wait for the next TOTP window, at most MIN_CODE_LIFE s
    return otp.at(time.time() + ahead * otp.interval)


def _stop(ctx: StepContext, stop_on: dict[str, str]) -> list[tuple[Selector, str]]:
    return [(ctx.selector(k), msg) for k, msg in stop_on.items()]


def _outcome(ctx: StepContext, *, fail: list[tuple[Selector, str]], ok: list[Selector]) -> int:
    """Wait for the first of the failure markers (raise BusinessFailure with the message and the element's
    text) or the success markers (their index)."""
    hit = ctx.browser.first_of([s for s, _ in fail] + ok, ctx.timeout)
    if hit < len(fail):
        sel, message = fail[hit]
        text = " ".join(ctx.browser.text(sel, 1.0).split())
        raise BusinessFailure(f"{message}: {text}" if text else message)
    return hit - len(fail)


def _submit(ctx: StepContext, submit: Selector, watched: list[Selector]) -> tuple[int, str]:
    """Click `submit` and wait for the portal's answer: the first of `watched` to show, as (its index, its text).
    Only what the portal shows after the click counts: a message on screen before it (a single-page app keeps its
    page and its notifications) is passed over unless its words change, or it goes and comes back."""
    mark = ctx.browser.mark_shown(watched)
    ctx.auth_state["submitted_at"] = datetime.now(UTC)
    ctx.browser.click(submit, ctx.timeout)
    return ctx.browser.first_new_of(watched, ctx.timeout, mark)


def _failure(message: str, text: str) -> str:
    words = " ".join(text.split())
    return f"{message}: {words}" if words else message


def _answer(ctx: StepContext, *, fail: list[tuple[Selector, str]], ok: list[Selector], submit: Selector,
            credentials: str) -> int:
    """Submit, then: a failure marker is a BusinessFailure with its message and the portal's words (the
    `credentials` one a CredentialsRejected), a success marker its index in `ok`."""
    hit, text = _submit(ctx, submit, [s for s, _ in fail] + ok)
    if hit < len(fail):
        message = fail[hit][1]
        raise (CredentialsRejected if message == credentials else BusinessFailure)(_failure(message, text))
    return hit - len(fail)


# ----------------------------------------------------------------------------------------------- login
class LoginArgs(StepArgs):
    example: ClassVar[str | None] = (
        "- login:\n"
        "    username: \"{{ secrets.sera_username }}\"\n"
        "    password: \"{{ secrets.sera_password }}\"\n"
        "    then: [mfa.code, nav.main]\n"
        "    stop_on: {login.password_expired: the portal demands a password change}"
    )
    username: str
    password: str
    then: list[SelectorRef] = Field(min_length=1, description="what the portal shows once the password is "
                                                              "accepted (the MFA page, the app); any of them")
    username_field: SelectorRef = "login.username"
    password_field: SelectorRef = "login.password"
    submit: SelectorRef = "login.submit"
    error: SelectorRef = Field("login.error", description="the portal's message when it refuses the password")
    stop_on: SelectorKeys = Field({}, description="pages that need a human (password change, new device, "
                                                  "maintenance): a business failure with this message")


@step("login")
def login(ctx: StepContext, args: LoginArgs) -> str:
    """Type the username and password and submit them, then wait for what follows: one of `then` (output:
    its name), the portal's error (a business failure "login rejected: <the portal's message>", remembered
    by the session store so the password is not tried again automatically), or a `stop_on` page. Only what the
    portal shows after the submit counts: a message already on screen (a single-page app's "Please sign in to
    continue.") is passed over unless its words change or it goes and comes back."""
    b = ctx.browser
    _outcome(ctx, fail=_stop(ctx, args.stop_on), ok=[ctx.selector(args.username_field)])  # a maintenance page?
    b.fill(ctx.selector(args.username_field), args.username, ctx.timeout)
    b.fill(ctx.selector(args.password_field), args.password, ctx.timeout)
    fail = [(ctx.selector(args.error), "login rejected"), *_stop(ctx, args.stop_on)]
    hit = _answer(ctx, fail=fail, ok=[ctx.selector(t) for t in args.then], submit=ctx.selector(args.submit),
                  credentials="login rejected")
    return args.then[hit]


# ----------------------------------------------------------------------------------------------- codes
class _CodeArgs(StepArgs):
    code: SelectorRef = Field("mfa.code", description="the code input")
    submit: SelectorRef = "mfa.submit"
    error: SelectorRef = Field("mfa.error", description="the portal's message when it refuses a code")
    done: SelectorRef = Field(description="what the portal shows once signed in")
    stop_on: SelectorKeys = {}
    resend: SelectorRef | None = Field(None, description="the portal's 'send a new code' control")
    resend_after: float = Field(30, gt=0, description="seconds without a code before asking for a new one")


class _Refused(Exception):
    """The portal refused a code, in these words."""


def _type_code(ctx: StepContext, args: _CodeArgs, code: str) -> None:
    """Type and submit a code; raises _Refused with the portal's words when it shows its error. After a refused code
    the page may still show that error (a single-page app keeps it in place until the next answer): only an error
    that was not on screen when the code was submitted, or whose words changed, is this code's refusal."""
    ctx.browser.fill(ctx.selector(args.code), code, ctx.timeout)
    stop = _stop(ctx, args.stop_on)
    hit, text = _submit(ctx, ctx.selector(args.submit), [ctx.selector(args.error), *(s for s, _ in stop),
                                                          ctx.selector(args.done)])  # fmt: skip
    if hit == 0:
        raise _Refused(" ".join(text.split()))
    if hit <= len(stop):
        raise BusinessFailure(_failure(stop[hit - 1][1], text))


def _rejected(refused: _Refused) -> BusinessFailure:
    return BusinessFailure(f"MFA code rejected: {refused}" if str(refused) else "MFA code rejected")


#: per TOTP secret (by its SHA-256), the time step of the last code the portal accepted from this process: a code
#: is good once, so a sign-in right after another (signing in again mid-run) starts after it
_ACCEPTED: dict[str, int] = {}


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def accepted_code_step(secret: str) -> int | None:
    """The time step of the last code for `secret` the portal accepted from this process (None: none yet)."""
    return _ACCEPTED.get(_key(secret))


def note_accepted_code(secret: str, step: int) -> None:
    """Remember that the portal accepted the code of time step `step` for `secret` (it will refuse it again)."""
    _ACCEPTED[_key(secret)] = max(_ACCEPTED.get(_key(secret), -1), step)


def forget_accepted_codes() -> None:
    """Forget every accepted code: for when the portal itself forgot them (the sandbox's reset does), so that the
    next sign-in types the current window's code instead of waiting out a window for nothing."""
    _ACCEPTED.clear()


def _with_totp(ctx: StepContext, args: _CodeArgs, secret: str) -> None:
    otp = _totp(secret)
    last = _ACCEPTED.get(_key(secret), -1)
    if otp.timecode(datetime.now(UTC)) + 1 <= last:  # the next window's code is used too: wait for that window
        time.sleep(otp.interval - time.time() % otp.interval + 0.05)  # back-off: at most one TOTP window
    ahead = 1 if otp.timecode(datetime.now(UTC)) <= last else 0
    try:
        _type_code(ctx, args, code := _fresh_code(otp, ahead))
    except _Refused:
        # Rejected (already used in this window by another sign-in, or the clocks differ): once more, on the same
        # page, with the next window's code, which portals accept one window early, after the pause they impose
        # on a failure.
        time.sleep(REJECTED_CODE_PAUSE)  # back-off: the portal refuses any code right after a wrong one
        try:
            _type_code(ctx, args, code := _fresh_code(otp, ahead=1))
        except _Refused as refused:
            raise _rejected(refused) from None
    note_accepted_code(secret, _step_of(otp, code))


def _step_of(otp: pyotp.TOTP, code: str) -> int:
    """The time step `code` belongs to (it was made for the current window or one of its neighbours)."""
    now = otp.timecode(datetime.now(UTC))
    return next((step for step in (now + 1, now, now - 1, now + 2) if otp.generate_otp(step) == code), now)


def _with_source(ctx: StepContext, args: _CodeArgs, spec: object) -> None:
    source = open_source(spec, ctx.portal.url if ctx.portal else None)  # type: ignore[arg-type]
    since = ctx.auth_state.get("submitted_at") or datetime.now(UTC) - CODE_MAX_AGE
    resend_control = ctx.selector(args.resend) if args.resend else None
    resend = (lambda: ctx.browser.click(resend_control, ctx.timeout)) if resend_control is not None else None
    code, message = wait_for_code(source, since=since, timeout=ctx.timeout, resend=resend,
                                  resend_after=args.resend_after)  # fmt: skip
    mark_used(source, message)
    try:
        _type_code(ctx, args, code)
        return
    except _Refused as refused:
        if resend is None:
            raise _rejected(refused) from None
    # Rejected (expired, or superseded): ask for a new code once and use that.
    asked = datetime.now(UTC)
    resend()
    code, message = wait_for_code(source, since=asked, timeout=ctx.timeout, resend=None)
    mark_used(source, message)
    try:
        _type_code(ctx, args, code)
    except _Refused as refused:
        raise _rejected(refused) from None


class MfaArgs(_CodeArgs):
    example: ClassVar[str | None] = (
        "- mfa:\n"
        "    done: nav.main\n"
        "    totp: \"{{ secrets.sera_totp }}\"\n"
        "    source: {kind: outbox, to: \"{{ vars.phone }}\"}\n"
        "    sent_to: mfa.destination\n"
        "    resend: mfa.resend"
    )
    totp: str | None = Field(None, description="TOTP secret (base32 or otpauth:// URI) for an authenticator app")
    source: CodeSourceSpec | None = Field(None, description="where SMS or e-mail codes arrive (kind: outbox, "
                                                            "maildir, imap, file or command)")
    sent_to: SelectorRef | None = Field(None, description="shown when the portal sent a code (SMS or e-mail) "
                                                          "rather than asking for the authenticator app's")

    @model_validator(mode="after")
    def _some_factor(self) -> MfaArgs:
        if not self.totp and self.source is None:
            raise ValueError("give a 'totp' secret, a code 'source', or both")
        return self


@step("mfa")
def mfa(ctx: StepContext, args: MfaArgs) -> str:
    """Pass whatever second factor the portal asks for. Waits for the code page or `done` (no second factor
    asked: a remembered device). A portal that sent a code (`sent_to` visible) gets one from `source`,
    otherwise the authenticator code from `totp`. A rejected TOTP code is retried once with the next window's
    code, a rejected sent code once with a new code (`resend`), on the page that refused it (the code it keeps is
    replaced; no reload); then "MFA code rejected: <the portal's words>". As with `login`, only an error shown
    after a code was submitted counts. Output: `totp`, `code` or `none`."""
    b = ctx.browser
    code_input, done = ctx.selector(args.code), ctx.selector(args.done)
    stop = _stop(ctx, args.stop_on)
    if _outcome(ctx, fail=stop, ok=[code_input, done]) == 1:
        return "none"
    sent = args.sent_to is not None and b.exists(ctx.selector(args.sent_to))
    if (sent or not args.totp) and args.source is not None:
        _with_source(ctx, args, args.source)
        return "code"
    if sent or not args.totp:
        raise BusinessFailure("the portal sent a code by SMS or e-mail but the flow gives no code `source`")
    _with_totp(ctx, args, args.totp)
    return "totp"


class MfaCodeArgs(_CodeArgs):
    example: ClassVar[str | None] = (
        "- mfa_code:\n"
        "    done: nav.main\n"
        "    source: {kind: maildir, path: /var/mail/robot/Maildir, to: robot@acme.example.com}\n"
        "    resend: mfa.resend"
    )
    source: CodeSourceSpec = Field(description="where the code arrives (kind: outbox, maildir, imap, file or "
                                               "command)")


@step("mfa_code")
def mfa_code(ctx: StepContext, args: MfaCodeArgs) -> None:
    """Type a code sent by SMS or e-mail, read from a code source: the newest message sent after the sign-in
    was submitted and never used before; `resend` asks for a new code when none comes in `resend_after`
    seconds or when the portal refuses the code (once)."""
    _with_source(ctx, args, args.source)


class TotpArgs(StepArgs):
    target: SelectorRef
    secret: str
    submit: SelectorRef | None = None


@step("totp")
def totp(ctx: StepContext, args: TotpArgs) -> None:
    """Type the current TOTP code into `target` (and click `submit` if given). A code about to expire
    is not used: the step waits for the next 30-second window."""
    ctx.browser.fill(ctx.selector(args.target), _fresh_code(_totp(args.secret)), ctx.timeout)
    if args.submit:
        ctx.browser.click(ctx.selector(args.submit), ctx.timeout)


# ----------------------------------------------------------------------------------------------- SSO
class SsoArgs(StepArgs):
    example: ClassVar[str | None] = (
        "- sso:\n"
        "    username: \"{{ secrets.sera_username }}\"\n"
        "    password: \"{{ secrets.sera_password }}\"\n"
        "    done: nav.main"
    )
    username: str = Field(description="the identity provider's username (often an e-mail address)")
    password: str
    done: SelectorRef = Field(description="what the portal shows once signed in")
    start: SelectorRef = Field("login.sso", description="the portal's 'sign in with SSO' control")
    idp_username: SelectorRef = "idp.username"
    idp_password: SelectorRef = "idp.password"
    idp_submit: SelectorRef = "idp.submit"
    idp_error: SelectorRef = Field("idp.error", description="the identity provider's refusal")
    error: SelectorRef = Field("login.error", description="the portal's message when the SSO hand-back fails")
    stop_on: SelectorKeys = {}


@step("sso")
def sso(ctx: StepContext, args: SsoArgs) -> str:
    """Sign in through the portal's identity provider: follow the SSO redirect, sign in there and come back.
    Output: `signed in`, or `already signed in` when the identity provider still had a session."""
    b = ctx.browser
    done = ctx.selector(args.done)
    b.click(ctx.selector(args.start), ctx.timeout)
    if b.first_of([ctx.selector(args.idp_username), done], ctx.timeout) == 1:
        return "already signed in"
    b.fill(ctx.selector(args.idp_username), args.username, ctx.timeout)
    b.fill(ctx.selector(args.idp_password), args.password, ctx.timeout)
    fail = [(ctx.selector(args.idp_error), "SSO login rejected"), (ctx.selector(args.error), "SSO failed"),
            *_stop(ctx, args.stop_on)]  # fmt: skip
    _answer(ctx, fail=fail, ok=[done], submit=ctx.selector(args.idp_submit), credentials="SSO login rejected")
    return "signed in"
