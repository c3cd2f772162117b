"""The sandbox fixture's reset also resets what this process remembers of the portal's one-time TOTP codes: the
portal forgot which codes it accepted, so a sign-in after the reset may type the current window's code at once
instead of waiting out the window (up to 30 s) for codes the portal no longer counts as used."""

from __future__ import annotations

from typing import Any

from robots.packs.sera.fixtures import reset_sandbox
from robots.packs.sera.sandbox import credentials
from robots.steps import signin


class _Server:
    """Stands in for SandboxServer: only whether reset() was called matters here."""

    def __init__(self) -> None:
        self.resets = 0

    def reset(self) -> dict[str, Any]:
        self.resets += 1
        return {}


def test_a_sandbox_reset_forgets_the_totp_codes_the_portal_accepted_from_this_process() -> None:
    secret = credentials()["totp_secret"]
    signin.note_accepted_code(secret, 7)
    signin.note_accepted_code(secret, 5)
    assert signin.accepted_code_step(secret) == 7
    server = _Server()
    reset_sandbox(server)
    assert (server.resets, signin.accepted_code_step(secret)) == (1, None)
