"""Demo data of splitting (placeholder until the part lands)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_splitting(session: Session) -> str:
    """Create the demo's splitting (once); commits. Returns a one-line summary."""
    return "splitting: nothing to seed yet"
