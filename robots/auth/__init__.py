"""Credentials, MFA and sessions."""
