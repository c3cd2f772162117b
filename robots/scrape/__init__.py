"""Scrapers: pure functions from page HTML to normalized dicts (no browser here)."""
