"""The price inspection's thresholds, with defaults that apply until the operator saves its own."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import Actor, Role
from mall.core.clock import now
from mall.core.errors import ValidationFailed
from mall.i18n_messages import N_
from supervision.prices.models import PriceSettings

MIN_PEERS = 3  # other suppliers' offers of the product before their quartiles count
QUARTILE_MARGIN_PCT = 20  # a case above the peers' upper quartile by more than 20 %
HARD_RATIO_PCT = 130  # frozen at once from 130 % of the reference price or the peers' median


@dataclass(frozen=True)
class Settings:
    min_peers: int = MIN_PEERS
    quartile_margin_pct: int = QUARTILE_MARGIN_PCT
    hard_ratio_pct: int = HARD_RATIO_PCT


def current(session: Session) -> Settings:
    """The thresholds in force."""
    row = session.scalar(select(PriceSettings).order_by(PriceSettings.id).limit(1))
    if row is None:
        return Settings()
    return Settings(row.min_peers, row.quartile_margin_pct, row.hard_ratio_pct)


def save(session: Session, actor: Actor, *, min_peers: int | None,
         quartile_margin_pct: int | None, hard_ratio_pct: int | None) -> Settings:
    """The operator sets the thresholds; they apply from the next inspection (cases already
    opened keep the evidence they were opened on). ``None``: a value that was not a number."""
    actor.require_role(Role.OPERATOR)
    errors: dict[str, list[str]] = {}
    if min_peers is None or not 1 <= min_peers <= 50:
        errors["min_peers"] = [N_("Enter 1 to 50 offers.")]
    if quartile_margin_pct is None or not 0 <= quartile_margin_pct <= 500:
        errors["quartile_margin_pct"] = [N_("Enter 0 to 500 per cent.")]
    if hard_ratio_pct is None or not 101 <= hard_ratio_pct <= 1000:
        errors["hard_ratio_pct"] = [N_("Enter 101 to 1000 per cent.")]
    if errors:
        raise ValidationFailed(errors=errors)
    assert min_peers is not None and quartile_margin_pct is not None and hard_ratio_pct is not None
    row = session.scalar(select(PriceSettings).order_by(PriceSettings.id).limit(1))
    if row is None:
        row = PriceSettings()
        session.add(row)
    row.min_peers, row.quartile_margin_pct, row.hard_ratio_pct = (
        min_peers, quartile_margin_pct, hard_ratio_pct)
    row.updated_at, row.updated_by_id = now(), actor.user_id
    session.flush()
    record_event(session, action="price_settings.saved", object_type="price_settings",
                 object_id=row.id, actor=actor,
                 data={"min_peers": min_peers, "quartile_margin_pct": quartile_margin_pct,
                       "hard_ratio_pct": hard_ratio_pct})
    return current(session)
