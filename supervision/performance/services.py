"""Supervision: performance (services; placeholder until the part lands)."""
