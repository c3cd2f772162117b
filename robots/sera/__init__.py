"""The Sera domain: record models (DOMAIN.md) that Sera flows' outputs conform to."""
