"""The Sera domain: record models (docs/DOMAIN.md) that Sera flows' outputs conform to."""
