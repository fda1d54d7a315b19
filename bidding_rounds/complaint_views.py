"""Complaint pages (placeholder until the part lands)."""

from bidding_rounds.pages import blueprint  # noqa: F401
