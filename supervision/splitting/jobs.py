"""Supervision: splitting (jobs; placeholder until the part lands)."""
