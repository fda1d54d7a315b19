"""Collusion signals of closed rounds (filled in by the collusion work of issue 12)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from bidding_rounds.models import BiddingRound, Quote
from suppliers.models import SupplierProfile


def record_signals(session: Session, rounds: Sequence[BiddingRound],
                   quotes: Mapping[int, Sequence[Quote]],
                   profiles: Mapping[int, SupplierProfile]) -> None:
    """Record the signals found among the quotes of rounds just closed."""
