"""Supervision: performance (models; placeholder until the part lands)."""
