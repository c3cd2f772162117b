"""Every feature under features/, bound to the shipped step library (robots.packs.sera.bdd): real Chromium, the
sandbox portal, a real SQLite record store shared by the scenarios (so they restore each other's sessions)."""

import pytest
from pytest_bdd import scenarios

pytestmark = pytest.mark.browser

scenarios(".")
