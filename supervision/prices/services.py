"""Supervision: prices (services; placeholder until the part lands)."""
