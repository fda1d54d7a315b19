"""Supervision: statistics (services; placeholder until the part lands)."""
