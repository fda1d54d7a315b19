"""Demo data of complaints (placeholder until the part lands)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_complaints(session: Session) -> str:
    """Create the demo's complaints (once); commits. Returns a one-line summary."""
    return "complaints: nothing to seed yet"
