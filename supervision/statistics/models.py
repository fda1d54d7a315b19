"""Supervision: statistics (models; placeholder until the part lands)."""
