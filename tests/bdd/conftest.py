"""The shipped Gherkin step library (robots.testing.bdd), loaded the way a user's suite loads it."""

from robots.testing.bdd import *  # noqa: F403
