"""Demo data of prices (placeholder until the part lands)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_prices(session: Session) -> str:
    """Create the demo's prices (once); commits. Returns a one-line summary."""
    return "prices: nothing to seed yet"
