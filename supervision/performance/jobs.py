"""Supervision: performance (jobs; placeholder until the part lands)."""
