"""Supervision: prices (jobs; placeholder until the part lands)."""
