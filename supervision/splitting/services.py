"""Supervision: splitting (services; placeholder until the part lands)."""
