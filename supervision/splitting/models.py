"""Supervision: splitting (models; placeholder until the part lands)."""
