"""The shipped Gherkin step library (robots.packs.sera.bdd), loaded the way a user's suite loads it."""

from robots.packs.sera.bdd import *  # noqa: F403
