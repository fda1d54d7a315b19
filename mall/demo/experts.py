"""Demo data of experts (placeholder until the part lands)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_experts(session: Session) -> str:
    """Create the demo's experts (once); commits. Returns a one-line summary."""
    return "experts: nothing to seed yet"
