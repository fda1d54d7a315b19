"""Supervision: statistics (jobs; placeholder until the part lands)."""
