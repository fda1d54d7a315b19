"""Supervision: prices (models; placeholder until the part lands)."""
