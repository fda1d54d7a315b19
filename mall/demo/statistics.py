"""Demo data of statistics (placeholder until the part lands)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_statistics(session: Session) -> str:
    """Create the demo's statistics (once); commits. Returns a one-line summary."""
    return "statistics: nothing to seed yet"
