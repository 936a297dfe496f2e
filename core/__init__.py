"""Shared foundation: configuration, database, calendar, privacy and health checks.

Owns nothing call-, ticket- or speech-specific; every other package may import it,
it imports none of them.
"""
