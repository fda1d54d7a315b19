"""Demo data of performance (placeholder until the part lands)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_performance(session: Session) -> str:
    """Create the demo's performance (once); commits. Returns a one-line summary."""
    return "performance: nothing to seed yet"
